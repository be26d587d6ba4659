"""Every string the app shows, in Vietnamese (default) and English.

Texts about crops, problems and treatments come from the advisor's knowledge base; everything else the
page says is here, so a test can walk this table and the rendered page for untranslated strings.
"""
from __future__ import annotations

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"

STRINGS: dict[str, dict[str, str]] = {
    # page and tabs
    "app_title": {"vi": "LeafScout: khám lá cây", "en": "LeafScout: leaf check"},
    "app_intro": {"vi": "Chụp một chiếc lá, xem bệnh gì và cách xử lý hữu cơ.",
                  "en": "Photograph one leaf, see what is wrong and how to treat it organically."},
    "language": {"vi": "Ngôn ngữ", "en": "Language"},
    "tab_diagnose": {"vi": "Khám lá", "en": "Diagnose"},
    "tab_batch": {"vi": "Nhiều ảnh", "en": "Batch"},
    "tab_knowledge": {"vi": "Tra cứu", "en": "Knowledge"},
    "tab_log": {"vi": "Sổ ghi chép", "en": "Log"},
    # diagnose tab
    "photo": {"vi": "Ảnh lá", "en": "Leaf photo"},
    "photo_placeholder": {"vi": "Bấm vào đây để chụp hoặc chọn ảnh một chiếc lá",
                          "en": "Tap here to take or choose a photo of one leaf"},
    "diagnose_btn": {"vi": "Khám lá", "en": "Check the leaf"},
    "context_title": {"vi": "Thông tin ruộng (giúp tư vấn chính xác hơn)",
                      "en": "About your field (makes the advice fit)"},
    "organic_status": {"vi": "Tình trạng hữu cơ", "en": "Organic status"},
    "org_certified": {"vi": "Đã chứng nhận hữu cơ", "en": "Certified organic"},
    "org_in_conversion": {"vi": "Đang chuyển đổi", "en": "In conversion"},
    "org_conventional": {"vi": "Chưa theo hữu cơ", "en": "Not organic"},
    "days_to_harvest": {"vi": "Còn bao nhiêu ngày đến thu hoạch", "en": "Days to harvest"},
    "copper_year": {"vi": "Lượng đồng đã dùng năm nay (kg/ha)", "en": "Copper used this year (kg/ha)"},
    "result": {"vi": "Kết quả", "en": "Result"},
    "heatmap": {"vi": "Chỗ máy đã nhìn vào (vùng đỏ)", "en": "Where the model looked (red areas)"},
    "advice": {"vi": "Cách xử lý", "en": "What to do"},
    "citations": {"vi": "Căn cứ tiêu chuẩn hữu cơ", "en": "Organic-standard citations"},
    "no_photo": {"vi": "Hãy chụp hoặc chọn một ảnh lá trước.", "en": "Take or choose a leaf photo first."},
    "empty_result": {"vi": "Chưa có kết quả. Chụp ảnh lá rồi bấm \u201cKhám lá\u201d.",
                     "en": "No result yet. Take a leaf photo, then press \u201cCheck the leaf\u201d."},
    "status_ok": {"vi": "Kết quả chẩn đoán", "en": "Diagnosis"},
    "status_uncertain": {"vi": "Chưa chắc chắn", "en": "Not sure"},
    "status_not_a_leaf": {"vi": "Không thấy lá", "en": "No leaf found"},
    "status_error": {"vi": "Không đọc được ảnh", "en": "Photo could not be read"},
    "confidence": {"vi": "Độ tin cậy", "en": "Confidence"},
    "confidence_note": {"vi": "Máy có thể sai. Hãy so sánh với triệu chứng thật trên lá.",
                        "en": "The model can be wrong. Compare with the real signs on the leaf."},
    "uncertain_why": {"vi": "Độ tin cậy {p} thấp hơn mức {th} cần để kết luận.",
                      "en": "Confidence {p} is below the {th} needed to be sure."},
    "not_a_leaf_why": {"vi": "Ảnh này không giống ảnh lá cây mà máy đã học.",
                       "en": "This photo does not look like the crop leaves the model learned."},
    "alternatives": {"vi": "Các khả năng khác", "en": "Other possibilities"},
    "top3": {"vi": "3 khả năng cao nhất", "en": "Top 3 possibilities"},
    "retake_title": {"vi": "Hãy chụp lại ảnh", "en": "Please take the photo again"},
    "retake_tips": {"vi": "Chụp một chiếc lá, cách 20-30 cm, ánh sáng ban ngày, lá chiếm gần hết khung hình, giữ máy cho nét.",
                    "en": "One leaf, 20-30 cm away, in daylight, filling most of the frame, holding the phone still."},
    "no_heatmap": {"vi": "Không có bản đồ nhiệt cho ảnh này.", "en": "No heatmap for this photo."},
    "standard": {"vi": "Tiêu chuẩn", "en": "Standard"},
    "citation_step": {"vi": "Bước", "en": "Step"},
    "citations_vi_note": {"vi": "Điều khoản gốc được trích bằng tiếng Anh; chọn English để xem nguyên văn.",
                          "en": "Clauses are quoted in the original English."},
    "no_citations": {"vi": "Không có biện pháp nào cần căn cứ.", "en": "No step needs a citation."},
    "model_version": {"vi": "Phiên bản mô hình", "en": "Model version"},
    # save to log
    "save_title": {"vi": "Lưu vào sổ ghi chép", "en": "Save to the field log"},
    "plot": {"vi": "Chọn lô ruộng", "en": "Choose a plot"},
    "new_plot": {"vi": "Hoặc tên lô mới", "en": "Or a new plot name"},
    "crop": {"vi": "Cây trồng", "en": "Crop"},
    "area_ha": {"vi": "Diện tích (ha)", "en": "Area (ha)"},
    "save_btn": {"vi": "Lưu", "en": "Save"},
    "saved": {"vi": "Đã lưu vào lô \u201c{plot}\u201d.", "en": "Saved to plot \u201c{plot}\u201d."},
    "nothing_to_save": {"vi": "Chưa có kết quả để lưu.", "en": "No result to save yet."},
    "choose_plot": {"vi": "Hãy chọn một lô hoặc nhập tên lô mới.", "en": "Choose a plot or type a new plot name."},
    "log_error": {"vi": "Không lưu được: {msg}", "en": "Could not save: {msg}"},
    "log_unavailable": {"vi": "Chưa mở được sổ ghi chép.", "en": "The field log is not available."},
    # batch tab
    "batch_intro": {"vi": "Tải lên nhiều ảnh hoặc một tệp zip. Tệp hỏng chỉ hiện lỗi ở dòng của nó.",
                    "en": "Upload many photos or one zip file. A bad file only shows an error on its own row."},
    "batch_files": {"vi": "Chọn ảnh hoặc tệp zip", "en": "Choose photos or a zip"},
    "batch_btn": {"vi": "Khám tất cả", "en": "Check all"},
    "batch_table": {"vi": "Kết quả (bấm tiêu đề cột để sắp xếp)", "en": "Results (tap a column title to sort)"},
    "batch_summary": {"vi": "{n} tệp: {ok} có kết quả, {unsure} chưa chắc, {noleaf} không thấy lá, {err} lỗi.",
                      "en": "{n} files: {ok} diagnosed, {unsure} not sure, {noleaf} no leaf, {err} errors."},
    "batch_none": {"vi": "Chưa chọn tệp nào.", "en": "No files chosen."},
    "batch_chosen": {"vi": "Đã chọn {n} tệp.", "en": "{n} files chosen."},
    "csv": {"vi": "Tải báo cáo CSV", "en": "Download CSV report"},
    "pdf": {"vi": "Tải báo cáo PDF để in", "en": "Download printable PDF report"},
    "col_no": {"vi": "STT", "en": "No."},
    "col_file": {"vi": "Tệp", "en": "File"},
    "col_status": {"vi": "Trạng thái", "en": "Status"},
    "col_problem": {"vi": "Vấn đề", "en": "Problem"},
    "col_confidence": {"vi": "Độ tin cậy (%)", "en": "Confidence (%)"},
    "col_advice": {"vi": "Việc cần làm trước tiên", "en": "First things to do"},
    "col_error": {"vi": "Lỗi", "en": "Error"},
    "st_ok": {"vi": "có kết quả", "en": "diagnosed"},
    "st_uncertain": {"vi": "chưa chắc", "en": "not sure"},
    "st_not_a_leaf": {"vi": "không thấy lá", "en": "no leaf"},
    "st_error": {"vi": "lỗi", "en": "error"},
    "err_empty": {"vi": "tệp rỗng (0 byte)", "en": "empty file (0 bytes)"},
    "err_not_image": {"vi": "không phải tệp ảnh", "en": "not an image file"},
    "err_small": {"vi": "ảnh quá nhỏ", "en": "photo too small"},
    "err_corrupt": {"vi": "tệp ảnh bị hỏng", "en": "damaged image file"},
    "err_large": {"vi": "tệp quá lớn", "en": "file too large"},
    "err_zip": {"vi": "tệp zip không mở được hoặc quá lớn", "en": "zip could not be opened or is too large"},
    "err_other": {"vi": "không đọc được tệp", "en": "file could not be read"},
    "report_title": {"vi": "Báo cáo khám lá LeafScout", "en": "LeafScout leaf check report"},
    "report_date": {"vi": "Ngày lập", "en": "Date"},
    # knowledge tab
    "kb_intro": {"vi": "Xem các vấn đề theo cây trồng, kể cả những vấn đề máy chưa nhận biết được qua ảnh.",
                 "en": "Browse problems by crop, including those the model cannot detect from a photo yet."},
    "kb_crop": {"vi": "Cây trồng", "en": "Crop"},
    "kb_problem": {"vi": "Vấn đề", "en": "Problem"},
    "kb_show": {"vi": "Xem cách xử lý", "en": "Show the advice"},
    "kb_not_detectable": {"vi": "máy chưa nhận biết qua ảnh", "en": "not detectable from a photo yet"},
    "kb_pick": {"vi": "Chọn cây trồng và vấn đề để xem cách xử lý.", "en": "Choose a crop and a problem to read the advice."},
    # log tab
    "log_intro": {"vi": "Xem lịch sử một lô ruộng và ghi lại việc đã làm.",
                  "en": "See a plot's history and record what was done."},
    "log_plot": {"vi": "Lô ruộng", "en": "Plot"},
    "log_refresh": {"vi": "Xem lịch sử", "en": "Show history"},
    "log_add_plot": {"vi": "Thêm lô mới", "en": "Add a new plot"},
    "log_plot_name": {"vi": "Tên lô", "en": "Plot name"},
    "log_add_btn": {"vi": "Thêm lô", "en": "Add plot"},
    "log_added": {"vi": "Đã thêm lô \u201c{plot}\u201d.", "en": "Added plot \u201c{plot}\u201d."},
    "log_action_title": {"vi": "Ghi việc đã làm", "en": "Record an action"},
    "log_what": {"vi": "Đã làm gì", "en": "What was done"},
    "log_substance": {"vi": "Hoạt chất (nếu có)", "en": "Active substance (if any)"},
    "log_copper": {"vi": "Lượng đồng (kg/ha)", "en": "Copper (kg/ha)"},
    "log_record_btn": {"vi": "Ghi lại", "en": "Record"},
    "log_recorded": {"vi": "Đã ghi lại.", "en": "Recorded."},
    "log_no_plots": {"vi": "Chưa có lô ruộng nào. Hãy thêm một lô.", "en": "No plots yet. Add one."},
    "log_history": {"vi": "Lịch sử lô \u201c{plot}\u201d", "en": "History of plot \u201c{plot}\u201d"},
    "log_empty": {"vi": "Chưa có ghi chép nào.", "en": "Nothing recorded yet."},
    "log_when": {"vi": "Ngày", "en": "Date"},
    "log_kind": {"vi": "Loại", "en": "Kind"},
    "log_detail": {"vi": "Nội dung", "en": "Details"},
    "log_observation": {"vi": "quan sát", "en": "observation"},
    "log_action": {"vi": "việc làm", "en": "action"},
    "log_copper_total": {"vi": "Đồng đã dùng: {year} kg/ha năm nay, {seven} kg/ha trong 7 năm (giới hạn {cap}).",
                         "en": "Copper used: {year} kg/ha this year, {seven} kg/ha over 7 years (cap {cap})."},
    "log_need_what": {"vi": "Hãy ghi đã làm gì.", "en": "Say what was done."},
    "error": {"vi": "Lỗi: {msg}", "en": "Error: {msg}"},
}

# Strings that are legitimately the same in both languages (names, units, numbers).
SAME_IN_BOTH: frozenset[str] = frozenset()


def t(key: str, lang: str = DEFAULT_LANG, **fmt) -> str:
    """The text for `key` in `lang` (unknown language: Vietnamese). A missing key is a bug: KeyError."""
    entry = STRINGS[key]
    text = entry.get(lang) or entry[DEFAULT_LANG]
    return text.format(**fmt) if fmt else text


def norm_lang(lang: str | None) -> str:
    return lang if lang in LANGS else DEFAULT_LANG
