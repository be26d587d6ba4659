"""Every string the app shows, in Vietnamese (default) and English.

Texts about crops, problems and treatments come from the advisor's knowledge base; everything else the
page says is here, so a test can walk this table and the rendered page for untranslated strings.
"""
from __future__ import annotations

from leafscout.i18n import DEFAULT_LANG, LANGS, lookup, norm_lang  # noqa: F401  (norm_lang: the app's too)

STRINGS: dict[str, dict[str, str]] = {
    # page and tabs
    "app_title": {"vi": "LeafScout: khám lá cây", "en": "LeafScout: leaf check"},
    "app_intro": {"vi": "Chụp một chiếc lá, xem bệnh gì và cách xử lý hữu cơ.",
                  "en": "Photograph one leaf, see what is wrong and how to treat it organically."},
    "language": {"vi": "Ngôn ngữ", "en": "Language"},
    # the login page (`--auth`, `--officers`): Gradio's own English words, said in the app's language
    "login_title": {"vi": "Đăng nhập", "en": "Log in"},
    "login_user": {"vi": "Tên đăng nhập", "en": "User name"},
    "login_password": {"vi": "Mật khẩu", "en": "Password"},
    "login_wrong": {"vi": "Sai tên đăng nhập hoặc mật khẩu", "en": "Wrong user name or password"},
    "tab_diagnose": {"vi": "Khám lá", "en": "Diagnose"},
    "tab_batch": {"vi": "Nhiều ảnh", "en": "Batch"},
    "tab_knowledge": {"vi": "Tra cứu", "en": "Knowledge"},
    "tab_log": {"vi": "Sổ ghi chép", "en": "Log"},
    # diagnose tab
    "photo": {"vi": "Ảnh lá", "en": "Leaf photo"},
    "photo_btn": {"vi": "Chụp hoặc chọn ảnh lá", "en": "Take or choose a leaf photo"},
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
    "copper_year": {"vi": "Lượng đồng nguyên chất đã dùng năm nay (kg đồng/ha, không phải kg thuốc)",
                    "en": "Copper used this year (kg of copper metal per ha, not kg of product)"},
    "result": {"vi": "Kết quả", "en": "Result"},
    "preview_alt": {"vi": "Ảnh lá vừa chụp; khung đánh số là những lá và côn trùng máy đã xem",
                    "en": "The leaf photo just taken; numbered boxes are the leaves and insects the model looked at"},
    "heatmap": {"vi": "Chỗ máy đã nhìn vào (vùng đỏ); côn trùng tìm thấy (khung đánh số)",
                "en": "Where the model looked (red areas); insects found (numbered boxes)"},
    "advice": {"vi": "Cách xử lý", "en": "What to do"},
    "citations": {"vi": "Căn cứ tiêu chuẩn hữu cơ", "en": "Organic-standard citations"},
    "no_photo": {"vi": "Hãy chụp hoặc chọn một ảnh lá trước.", "en": "Take or choose a leaf photo first."},
    "empty_result": {"vi": "Chưa có kết quả. Bấm nút \u201cChụp hoặc chọn ảnh lá\u201d ở trên: "
                           "kết quả hiện ngay tại đây.",
                     "en": "No result yet. Press \u201cTake or choose a leaf photo\u201d above: "
                           "the answer shows here."},
    "status_ok": {"vi": "Kết quả chẩn đoán", "en": "Diagnosis"},
    "status_uncertain": {"vi": "Chưa chắc chắn", "en": "Not sure"},
    "status_not_a_leaf": {"vi": "Không thấy lá", "en": "No leaf found"},
    "status_error": {"vi": "Không đọc được ảnh", "en": "Photo could not be read"},
    "confidence": {"vi": "Độ tin cậy", "en": "Confidence"},
    "confidence_note": {"vi": "Máy có thể sai. Hãy so sánh với triệu chứng thật trên lá.",
                        "en": "The model can be wrong. Compare with the real signs on the leaf."},
    "uncertain_why": {"vi": "Độ tin cậy {p} thấp hơn mức {th} cần để kết luận.",
                      "en": "Confidence {p} is below the {th} needed to be sure."},
    "unnamed_problem_why": {"vi": "Máy nhận ra cây {crop} nhưng chưa gọi tên được vấn đề này. Đừng phun thuốc theo "
                                   "kết quả này: hãy tự xem kỹ lá, hoặc so với các vấn đề của cây {crop} ở thẻ Tra cứu.",
                            "en": "LeafScout recognises {crop} but cannot name this problem yet. Do not spray on this "
                                  "answer: look at the leaf yourself, or compare it with the {crop} problems in the "
                                  "Knowledge tab."},
    "unfamiliar_why": {"vi": "Có cây trong ảnh nhưng máy chưa nhận ra cây trồng hoặc vấn đề này.",
                       "en": "A plant is in the photo, but the model does not recognise this crop or problem yet."},
    "no_leaf_seen_why": {"vi": "Ảnh có màu xanh của cây nhưng máy không thấy rõ chiếc lá nào (cỏ, cây ở xa hay "
                                "ảnh bị mờ?).",
                         "en": "The photo has plant colour but the model sees no single leaf in it (grass, plants "
                               "far away or a blurred photo?)."},
    "plot_crop_photo": {"vi": "LeafScout nhận biết vấn đề của cây {crop} qua ảnh: ảnh ghi vào lô này được đọc là {crop}.",
                        "en": "LeafScout names {crop} problems from a photo: photos logged to this plot are read as "
                              "{crop}."},
    "plot_crop_advice": {"vi": "LeafScout có hướng dẫn cho cây {crop} nhưng chưa gọi tên được vấn đề của cây này qua "
                               "ảnh: ảnh ghi vào lô này mà giống bệnh của cây khác sẽ được trả lời là chưa chắc chắn.",
                         "en": "LeafScout has advice for {crop} but cannot name its problems from a photo yet: a photo "
                               "logged to this plot that looks like another crop's problem is answered 'uncertain'."},
    "plot_crop_unknown": {"vi": "LeafScout không nhận ra cây trồng trong “{text}”: ảnh ghi vào lô này được đọc trong "
                                "tất cả các cây. Các cây LeafScout nhận biết qua ảnh: {crops}.",
                          "en": "LeafScout finds no crop it knows in “{text}”: photos logged to this plot are read "
                                "among all crops. Crops it names from a photo: {crops}."},
    "crop_from_plot": {"vi": "Cây trồng theo lô {plot}: {crop}. Chọn cây khác ở ô Cây trồng nếu ảnh là cây khác.",
                       "en": "Crop taken from plot {plot}: {crop}. Choose another in the Crop field if the photo shows "
                             "another plant."},
    "crop_not_learned_why": {"vi": "Lô này trồng {crop}: LeafScout chưa gọi tên được vấn đề của cây này qua ảnh. "
                                    "Kết quả trên chỉ là kết quả gần nhất của một cây khác: đừng xử lý theo nó, hãy "
                                    "tự xem kỹ lá.",
                             "en": "This plot grows {crop}: LeafScout cannot name its problems from a photo yet. The "
                                   "answer above is only the nearest match from another crop: do not act on it, look "
                                   "at the leaf yourself."},
    "no_leaf_seen_short": {"vi": "không thấy rõ chiếc lá nào", "en": "no single leaf seen"},
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
    "plot_name_needed": {"vi": "Hãy nhập tên lô (ví dụ: Đồi Bắc, Ruộng dưới suối).",
                         "en": "Type a name for the plot (for example: North hill, Lower paddy)."},
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
    "batch_check_first": {"vi": "Chưa chắc: xem kỹ dấu hiệu trên vài lá trước khi làm ({steps})",
                          "en": "Not sure: check the signs on several leaves before acting ({steps})"},
    "batch_crop": {"vi": "Mọi ảnh được đọc là cây {crop} (ô “Cây trồng trong ảnh” ở thẻ Khám lá; chọn "
                         "“Chưa rõ” để máy tự nhận).",
                   "en": "Every photo was read as {crop} (the “Crop in the photo” field on the Diagnose tab; "
                         "choose “Not sure” to let the model decide)."},
    "batch_check_crop": {"vi": "Ảnh không giống cây trồng đã chọn: kiểm tra lại cây trồng",
                         "en": "Does not look like the chosen crop: check the crop"},
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
    "err_corrupt": {"vi": "tệp ảnh bị hỏng", "en": "damaged image file"},
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
    # knowledge tab: "may I use this product?" (Advisor.check_substance through handlers.check_substance). The marks
    # are text symbols DejaVu and Noto have (an emoji such as U+26D4 was an empty box in Debian's Chromium)
    "sub_box": {"vi": "Hỏi một loại thuốc (tên thương mại hoặc hoạt chất)",
                "en": "Check a product (trade name or active substance)"},
    "sub_placeholder": {"vi": "Ví dụ: Karate 2.5EC, COC 85, Dipel DF", "en": "For example: Karate 2.5EC, COC 85, Dipel DF"},
    "sub_btn": {"vi": "Kiểm tra thuốc", "en": "Check the product"},
    "sub_hint": {"vi": "Gõ tên in trên bao bì thuốc để biết thuốc đó có được dùng trong canh tác hữu cơ không.",
                 "en": "Type the name printed on the pack to see whether it may be used in organic farming."},
    "sub_verdict_not_allowed": {"vi": "✘ Không được dùng trong canh tác hữu cơ", "en": "✘ Not allowed in organic farming"},
    "sub_verdict_conditions": {"vi": "⚠ Được dùng có điều kiện: làm đúng các điều kiện bên dưới",
                               "en": "⚠ Allowed with conditions: follow the conditions below"},
    "sub_verdict_allowed": {"vi": "✔ Được dùng trong canh tác hữu cơ", "en": "✔ Allowed in organic farming"},
    "sub_verdict_unknown": {"vi": "(?) Chưa biết: LeafScout không có tên này",
                            "en": "(?) Not known: LeafScout does not have this name"},
    "sub_asked": {"vi": "Bạn hỏi: {name}", "en": "You asked: {name}"},
    "sub_conditions": {"vi": "Điều kiện và căn cứ tiêu chuẩn", "en": "Conditions and what the standards say"},
    "sub_empty": {"vi": "Hãy gõ tên một loại thuốc (tên thương mại hoặc hoạt chất) rồi bấm \u201cKiểm tra thuốc\u201d.",
                  "en": "Type the name of a product (trade name or active substance), then press "
                        "\u201cCheck the product\u201d."},
    "sub_too_long": {"vi": "Tên quá dài ({n} ký tự): tên một loại thuốc phải ngắn hơn {max} ký tự. Hãy gõ từng tên một.",
                     "en": "That name is too long ({n} characters): a product's name is shorter than {max} characters. "
                           "Type one name at a time."},
    # the API's refusal of the same (after "Error: a value is not valid: name")
    "sub_api_empty": {"vi": "chưa có tên thuốc", "en": "no product name"},
    "sub_api_not_text": {"vi": "mỗi lần gửi một tên thuốc, dạng chữ", "en": "send one product name, as text"},
    "sub_api_too_long": {"vi": "dài {n} ký tự, phải ngắn hơn {max}", "en": "{n} characters long, must be shorter than {max}"},
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
    "log_copper": {"vi": "Lượng đồng nguyên chất (kg đồng/ha)", "en": "Copper metal (kg of copper per ha)"},
    "log_record_btn": {"vi": "Ghi lại", "en": "Record"},
    "log_export_files": {"vi": "Tệp đã tạo (bấm để tải về)", "en": "Files made (tap to download)"},
    "log_recorded": {"vi": "Đã ghi lại.", "en": "Recorded."},
    "log_no_plots": {"vi": "Chưa có lô ruộng nào. Hãy thêm một lô.", "en": "No plots yet. Add one."},
    "log_history": {"vi": "Lịch sử lô \u201c{plot}\u201d", "en": "History of plot \u201c{plot}\u201d"},
    "log_empty": {"vi": "Chưa có ghi chép nào.", "en": "Nothing recorded yet."},
    "log_when": {"vi": "Ngày", "en": "Date"},
    "log_kind": {"vi": "Loại", "en": "Kind"},
    "log_detail": {"vi": "Nội dung", "en": "Details"},
    "log_observation": {"vi": "quan sát", "en": "observation"},
    "log_action": {"vi": "việc đã làm", "en": "action"},
    "log_copper_total": {"vi": "Đồng đã dùng: {year} kg/ha năm nay, {seven} kg/ha trong 7 năm (giới hạn {cap}).",
                         "en": "Copper used: {year} kg/ha this year, {seven} kg/ha over 7 years (cap {cap})."},
    "log_need_what": {"vi": "Hãy ghi đã làm gì.", "en": "Say what was done."},
    "error": {"vi": "Lỗi: {msg}", "en": "Error: {msg}"},

    # error codes (leafscout.errors.ERROR_CODES): the page shows these, never the English detail
    "err_no_photo": {"vi": "chưa có ảnh", "en": "no photo"},
    "err_heic": {"vi": "ảnh HEIC của iPhone chưa đọc được; hãy chọn định dạng JPEG (Cài đặt > Camera > Định dạng > Tương thích nhất)",
                 "en": "an iPhone HEIC photo cannot be read yet; choose JPEG (Settings > Camera > Formats > Most Compatible)"},
    "err_too_small": {"vi": "ảnh quá nhỏ", "en": "photo too small"},
    "err_too_large": {"vi": "tệp hoặc ảnh quá lớn", "en": "file or image too large"},
    "err_zip_member": {"vi": "một tệp trong zip không đọc được", "en": "a file inside the zip could not be read"},
    "err_not_a_file": {"vi": "không phải tệp thông thường", "en": "not a regular file"},
    "err_not_found": {"vi": "không tìm thấy tệp", "en": "file not found"},
    "err_refused_path": {"vi": "tệp này không phải ảnh đã tải lên", "en": "this file is not an upload"},
    "err_bad_input": {"vi": "giá trị nhập chưa đúng", "en": "a value is not valid"},
    "err_unknown_plot": {"vi": "không có lô ruộng tên này", "en": "no plot with that name"},
    "err_unknown_crop": {"vi": "mô hình chưa nhận biết được cây trồng này; hãy để trống ô cây trồng",
                         "en": "the model does not know this crop yet; leave the crop empty"},
    "err_unknown_label": {"vi": "không có vấn đề này trong cơ sở kiến thức", "en": "no such problem in the knowledge base"},
    "err_log_error": {"vi": "sổ ghi chép không nhận bản ghi này", "en": "the field log refused this record"},
    "err_batch_too_big": {"vi": "quá nhiều tệp hoặc quá nhiều dữ liệu trong một lần; hãy chia nhỏ",
                          "en": "too many files or too much data at once; split it up"},
    # crop picker and plot context
    "crop_pick": {"vi": "Cây trồng trong ảnh", "en": "Crop in the photo"},
    "crop_any": {"vi": "Chưa rõ (máy tự đoán)", "en": "Not sure (let the model guess)"},
    "diag_plot": {"vi": "Lô ruộng (lấy tình trạng hữu cơ và lượng đồng từ sổ)",
                  "en": "Plot (organic status and copper from the log)"},
    "copper_7y": {"vi": "Lượng đồng nguyên chất đã dùng trong 7 năm (kg đồng/ha, không phải kg thuốc)",
                  "en": "Copper used over 7 years (kg of copper metal per ha, not kg of product)"},
    "form_bad_days": {"vi": "Số ngày đến thu hoạch phải là một số nguyên, từ 0 trở lên (ví dụ: 7): hãy nhập lại; "
                            "kết quả trên chưa tính ngày thu hoạch.",
                      "en": "Days to harvest must be a whole number, 0 or more (for example 7): type it again; the "
                            "answer above does not count the harvest date yet."},
    "form_bad_copper": {"vi": "Lượng đồng 7 năm phải là một số từ 0 trở lên (kg đồng/ha): hãy nhập lại; kết quả trên "
                              "chưa tính lượng đồng này.",
                        "en": "The 7-year copper must be a number, 0 or more (kg of copper per ha): type it again; "
                              "the answer above does not count it yet."},
    "ctx_from_plot": {"vi": "Lô \u201c{plot}\u201d: {org}; đồng {seven} kg/ha trong 7 năm (giới hạn {cap}), {year} kg/ha năm nay.",
                      "en": "Plot \u201c{plot}\u201d: {org}; copper {seven} kg/ha over 7 years (cap {cap}), {year} kg/ha this year."},
    "already_saved": {"vi": "Ảnh này đã được lưu vào lô {plot} (bản ghi số {id}); không lưu lần nữa.",
                      "en": "This photo is already saved to plot {plot} (record {id}); not saved again."},
    "crop_mismatch_why": {"vi": "Ảnh này không giống {crop}, cây trồng đã chọn: đây chỉ là khả năng gần nhất của {crop}, "
                                "đừng xử lý theo kết quả này. Kiểm tra lại cây trồng, hoặc để trống để máy tự nhận.",
                          "en": "This photo does not look like {crop}, the crop you chose: this is only {crop}'s nearest "
                                "match, do not act on it. Check the crop, or leave it empty to let the model decide."},
    "crop_note_other": {"vi": "Ảnh này giống lá cây khác hơn là {crop}. Kiểm tra lại cây trồng đã chọn.",
                        "en": "This photo looks more like another crop than {crop}. Check the crop you chose."},
    # the answer card
    "card_healthy": {"vi": "Lá khỏe: chưa cần làm gì, tiếp tục thăm vườn, ruộng", "en": "Healthy: nothing to do, keep scouting"},
    "card_today": {"vi": "Làm ngay hôm nay", "en": "Do today"},
    "card_dose": {"vi": "Lượng cho bình 16 lít", "en": "Per 16-litre sprayer"},
    "card_dose_label": {"vi": "theo nhãn sản phẩm", "en": "as on the product label"},
    "card_per_sao": {"vi": "mỗi sào (360 m²): {amount}", "en": "per sào (360 m²): {amount}"},
    "card_gear": {"vi": "Đồ bảo hộ", "en": "Protective gear"},
    "card_gear_spray": {"vi": "găng tay, khẩu trang, kính, áo dài tay; tắm rửa sau khi phun",
                        "en": "gloves, mask, goggles, long sleeves; wash after spraying"},
    "card_gear_none": {"vi": "găng tay khi nhặt lá bệnh", "en": "gloves when picking off sick leaves"},
    "card_reentry": {"vi": "không vào vườn, ruộng trong {h} giờ sau khi phun", "en": "keep out of the field {h} hours after spraying"},
    "card_look_again": {"vi": "Xem lại", "en": "Look again"},
    "card_look_days": {"vi": "sau {d} ngày, trên các lá gần đó", "en": "in {d} days, on nearby leaves"},
    "card_look_week": {"vi": "mỗi tuần một lần", "en": "once a week"},
    "card_no_spray": {"vi": "hôm nay không cần phun thuốc", "en": "no spraying today"},
    "card_copper_blocked": {"vi": "Không dùng đồng: lô này đã gần giới hạn đồng 7 năm.",
                            "en": "No copper: this plot is near its 7-year copper cap."},
    "card_details": {"vi": "Chi tiết cách xử lý", "en": "All the steps"},
    "card_why": {"vi": "Vì sao máy nghĩ vậy", "en": "Why the model thinks so"},
    "card_sure": {"vi": "chắc {p}", "en": "{p} sure"},
    "framing_whole": {"vi": "Không tìm thấy riêng chiếc lá, máy đã xem cả ảnh.", "en": "No single leaf found; the model looked at the whole photo."},
    "uploading": {"vi": "Đang tải ảnh lên...", "en": "Uploading..."},
    # several photos of one plant (Diagnose tab): one combined answer, how many photos agree
    "group_add_btn": {"vi": "Thêm ảnh cùng cây", "en": "Add another photo of the same plant"},
    "group_new_btn": {"vi": "Cây mới: khám lại từ đầu", "en": "New plant: start again"},
    "group_hint": {"vi": "Chụp thêm lá khác của cùng cây này (tối đa 6 ảnh) để kết quả chắc hơn.",
                   "en": "Add other leaves of this same plant (up to 6 photos) for a surer answer."},
    "group_title": {"vi": "Kết quả chung của {n} ảnh cùng một cây", "en": "One answer from {n} photos of the same plant"},
    "group_agree": {"vi": "{k} trên {n} ảnh cho cùng kết quả", "en": "{k} of {n} photos agree"},
    "group_skipped": {"vi": "{m} ảnh không được tính: không thấy lá hoặc không đọc được",
                      "en": "{m} not counted: no leaf found, or could not be read"},
    "group_mixed_crops": {"vi": "Các ảnh này giống những cây khác nhau ({crops}): một nhóm ảnh phải là cùng một cây. "
                                "Nếu không phải, hãy bấm \u201cCây mới\u201d và khám từng ảnh.",
                          "en": "These photos look like different crops ({crops}): a group must be one plant. If it is "
                                "not, press \u201cNew plant\u201d and diagnose each photo on its own."},
    "group_photo": {"vi": "Ảnh {i}", "en": "Photo {i}"},
    "group_same_as": {"vi": "trùng với ảnh {i}, không tính", "en": "same photo as {i}, not counted"},
    "group_duplicates": {"vi": "{n} ảnh trùng với ảnh đã có: chỉ tính một lần",
                         "en": "{n} photo(s) repeat an earlier one: counted once"},
    "group_not_counted": {"vi": "không tính", "en": "not counted"},
    "group_insects": {"vi": "côn trùng: {n}", "en": "insects: {n}"},
    "group_full": {"vi": "Đã đủ 6 ảnh cho một cây. Bấm \u201cCây mới\u201d để khám cây khác.",
                   "en": "A plant takes at most 6 photos. Press \u201cNew plant\u201d to check another one."},
    "group_saved": {"vi": "Đã lưu kết quả chung của {n} ảnh cùng cây (kèm ảnh đầu tiên đọc được).",
                    "en": "The combined answer of {n} photos of one plant was saved (with the first readable photo)."},
    # log tab: lots, QR, exports, audit, copper from the sprayer
    "log_spray_title": {"vi": "Ghi lần phun đồng (theo bình)", "en": "Record a copper spray (by the tank)"},
    "log_product": {"vi": "Sản phẩm", "en": "Product"},
    "log_per_tank": {"vi": "Lượng sản phẩm mỗi bình (gam)", "en": "Product per tank (grams)"},
    "log_tanks": {"vi": "Số bình đã phun", "en": "Number of tanks sprayed"},
    "log_cu_pct": {"vi": "Hàm lượng đồng của sản phẩm (%)", "en": "Copper content of the product (%)"},
    "log_spray_btn": {"vi": "Ghi lần phun", "en": "Record the spray"},
    "log_spray_done": {"vi": "Đã ghi: {kg} kg đồng/ha trên lô \u201c{plot}\u201d ({g} g đồng trên {ha} ha).",
                       "en": "Recorded: {kg} kg copper/ha on plot \u201c{plot}\u201d ({g} g copper on {ha} ha)."},
    "log_spray_need": {"vi": "Hãy nhập lượng mỗi bình và số bình.", "en": "Enter the amount per tank and the number of tanks."},
    "log_spray_what": {"vi": "Phun {product}", "en": "Sprayed {product}"},
    "prod_copper_hydroxide": {"vi": "Đồng hydroxit 77% WP (50% đồng)", "en": "Copper hydroxide 77% WP (50% copper)"},
    "prod_copper_oxychloride": {"vi": "Đồng oxyclorua 85% WP (50% đồng)", "en": "Copper oxychloride 85% WP (50% copper)"},
    "prod_copper_sulfate": {"vi": "Phèn xanh (đồng sunfat) pha Boóc-đô (25% đồng)", "en": "Copper sulfate for Bordeaux mix (25% copper)"},
    "prod_other": {"vi": "Sản phẩm khác (nhập % đồng)", "en": "Other product (enter % copper)"},
    "log_lot_title": {"vi": "Lô thu hoạch và mã QR", "en": "Harvest lot and QR code"},
    "log_lot_code": {"vi": "Mã lô thu hoạch", "en": "Harvest lot code"},
    "log_lot_plots": {"vi": "Thu hoạch từ các lô ruộng", "en": "Harvested from plots"},
    "log_lot_btn": {"vi": "Tạo lô và mã QR", "en": "Make the lot and its QR code"},
    "log_lot_done": {"vi": "Đã tạo lô thu hoạch \u201c{lot}\u201d.", "en": "Made harvest lot \u201c{lot}\u201d."},
    "log_lot_need": {"vi": "Hãy nhập mã lô và chọn ít nhất một lô ruộng.", "en": "Enter a lot code and choose at least one plot."},
    "log_qr": {"vi": "Mã QR truy xuất", "en": "Traceability QR code"},
    "log_export_title": {"vi": "Xuất báo cáo", "en": "Export a report"},
    "log_export_target": {"vi": "Lô thu hoạch hoặc lô ruộng", "en": "Harvest lot or plot"},
    "log_export_btn": {"vi": "Tạo tệp PDF, CSV và HTML", "en": "Make PDF, CSV and HTML files"},
    "log_audit_title": {"vi": "Kiểm tra mùa vụ", "en": "Season audit"},
    "log_audit_year": {"vi": "Năm", "en": "Year"},
    "log_audit_btn": {"vi": "Kiểm tra", "en": "Check"},
    "log_audit_ok": {"vi": "Không có gì cần xem lại.", "en": "Nothing to look at."},
    "log_audit_flag": {"vi": "Cần xem lại", "en": "To check"},
    "log_audit_none": {"vi": "Không có ghi chép việc đã làm nào trong năm {y}.", "en": "No actions recorded in {y}."},
    # who confirms a saved diagnosis (fieldlog: a model result is a suggestion until a person confirms it)
    "confirmed_by": {"vi": "Người xác nhận (họ tên người đã xem ảnh và đồng ý với kết quả)",
                     "en": "Confirmed by (name of the person who looked at the photo and agrees)"},
    "saved_by": {"vi": "Người xác nhận: {by}.", "en": "Confirmed by {by}."},
    "saved_unconfirmed": {"vi": "Bản ghi này CHƯA ĐƯỢC XÁC NHẬN nên chưa được tính khi kiểm tra mùa vụ. "
                                "Lần sau hãy nhập tên người xác nhận trước khi bấm Lưu.",
                          "en": "This record is UNCONFIRMED, so the season audit does not count it yet. "
                                "Next time, enter the name of the person confirming before pressing Save."},
    "log_unconfirmed": {"vi": "chưa xác nhận", "en": "unconfirmed"},
    "log_confirmed_by": {"vi": "xác nhận: {by}", "en": "confirmed by {by}"},
    # officers confirm or correct a logged result (who, when, the photo's hash and the model version are kept)
    "log_corrected": {"vi": "đã sửa thành {name}: {by}, {when}", "en": "corrected to {name} by {by}, {when}"},
    "log_corrected_short": {"vi": "đã sửa: {by}", "en": "corrected by {by}"},
    "log_model": {"vi": "mô hình {v}", "en": "model {v}"},
    "log_photo": {"vi": "ảnh {sha}", "en": "photo {sha}"},
    "review_title": {"vi": "Cán bộ: xác nhận hoặc sửa kết quả", "en": "Officers: confirm or correct the result"},
    "review_hint": {"vi": "Xem ảnh: nếu kết quả đúng, bấm \u201cXác nhận\u201d; nếu sai, chọn kết quả đúng rồi bấm "
                          "\u201cSửa\u201d. Sổ ghi lại người làm, thời gian, mã ảnh và phiên bản mô hình; ảnh đã "
                          "sửa được dùng để huấn luyện lại mô hình.",
                    "en": "Look at the photo: if the result is right, press \u201cConfirm\u201d; if it is wrong, "
                          "choose the right answer and press \u201cCorrect\u201d. The log keeps who, when, the "
                          "photo's hash and the model version; corrected photos are used to retrain the model."},
    "review_obs": {"vi": "Quan sát của lô (mới nhất trước)", "en": "The plot's observations (newest first)"},
    "review_label": {"vi": "Kết quả đúng là", "en": "The right answer is"},
    "review_by": {"vi": "Người xác nhận hoặc sửa (khi không đăng nhập)",
                  "en": "Confirmed or corrected by (when not logged in)"},
    "review_confirm_btn": {"vi": "Xác nhận: kết quả đúng", "en": "Confirm: the result is right"},
    "review_correct_btn": {"vi": "Sửa thành kết quả đã chọn", "en": "Correct to the chosen answer"},
    "review_model_said": {"vi": "Máy trả lời", "en": "The model said"},
    "review_sha": {"vi": "Mã ảnh (SHA-256)", "en": "Photo hash (SHA-256)"},
    "review_confirmed": {"vi": "Đã xác nhận quan sát #{id} ({name}). Người xác nhận: {by}, lúc {when}.",
                         "en": "Observation #{id} ({name}) confirmed by {by} at {when}."},
    "review_corrected": {"vi": "Đã sửa quan sát #{id}: {old} \u2192 {new}. Người sửa: {by}, lúc {when}.",
                         "en": "Observation #{id} corrected: {old} \u2192 {new} by {by} at {when}."},
    "review_already": {"vi": "Quan sát #{id} đã được {by} xác nhận lúc {when}.",
                       "en": "Observation #{id} was already confirmed by {by} at {when}."},
    "review_same": {"vi": "Quan sát #{id} đã ghi đúng kết quả này; nếu đúng, hãy bấm \u201cXác nhận\u201d.",
                    "en": "Observation #{id} already says this; if it is right, press \u201cConfirm\u201d."},
    "review_was_corrected": {"vi": "Quan sát #{id} đã được sửa rồi, nên không xác nhận kết quả của máy được nữa; "
                                   "để sửa lại, chọn kết quả đúng rồi bấm \u201cSửa\u201d.",
                             "en": "Observation #{id} was corrected already, so the model's answer cannot be "
                                   "confirmed; to change it again, choose the right answer and press \u201cCorrect\u201d."},
    "review_need_by": {"vi": "Hãy đăng nhập, hoặc nhập tên người xác nhận, trước khi xác nhận hay sửa.",
                       "en": "Log in, or enter the name of the person confirming, before confirming or correcting."},
    "review_pick": {"vi": "Hãy lưu kết quả vào sổ hoặc chọn một quan sát trước.",
                    "en": "Save the result to the log or choose an observation first."},
    "review_pick_label": {"vi": "Hãy chọn kết quả đúng trong danh sách.", "en": "Choose the right answer from the list."},
    "review_not_officer": {"vi": "Tài khoản \u201c{by}\u201d không còn là cán bộ; hãy đăng nhập lại.",
                           "en": "The account \u201c{by}\u201d is no longer an officer; log in again."},
    "review_who": {"vi": "Đang đăng nhập: {by}. Việc xác nhận và sửa sẽ ghi tên này.",
                   "en": "Logged in as {by}. Confirmations and corrections are recorded under this name."},
    "review_none": {"vi": "Lô này chưa có quan sát nào.", "en": "This plot has no observations yet."},
    # field-log refusals (fieldlog.errors codes): the page says these, never the log's English
    "fl_needs_confirmation": {"vi": "máy không thấy lá trong ảnh này nên đây chưa phải là chẩn đoán. Chỉ lưu khi có "
                                    "người đã xem ảnh và xác nhận: nhập tên người xác nhận, hoặc chụp lại rõ một "
                                    "chiếc lá",
                              "en": "the model found no leaf in this photo, so it is not a diagnosis. It is saved only "
                                    "when a person has looked at the photo and confirms it: enter the name of the "
                                    "person confirming, or take a clearer photo of one leaf"},
    "fl_copper_required": {"vi": "việc này có dùng thuốc gốc đồng nhưng chưa rõ lượng đồng. Hãy ghi ở mục "
                                 "\u201cGhi lần phun đồng (theo bình)\u201d: sản phẩm, lượng mỗi bình và số bình; "
                                 "hoặc nhập lượng đồng (kg/ha)",
                           "en": "this uses a copper product, but how much copper is not known. Record it under "
                                 "\u201cRecord a copper spray (by the tank)\u201d: product, amount per tank and "
                                 "number of tanks; or enter the copper (kg/ha)"},
    "fl_copper_range": {"vi": "{kg} kg đồng/ha trong một lần phun là không hợp lý; chỉ nhận từ 0 đến {max} kg "
                              "đồng/ha (nhãn thuốc thường ghi 0,2 đến 2). Kiểm tra lại đơn vị (gam hay kg), lượng "
                              "mỗi bình, số bình và diện tích lô",
                        "en": "{kg} kg copper/ha in one application is not plausible; only 0 to {max} kg copper/ha "
                              "is accepted (labels give 0.2 to 2). Check the unit (grams or kg), the amount per "
                              "tank, the number of tanks and the plot area"},
    "fl_copper_pct": {"vi": "hàm lượng đồng của sản phẩm phải lớn hơn 0 và tối đa 100%",
                      "en": "the product's copper content must be above 0 and at most 100%"},
    "fl_spray_amounts": {"vi": "lượng mỗi bình, số bình và diện tích lô phải lớn hơn 0",
                         "en": "the amount per tank, the number of tanks and the plot area must be above 0"},
    "fl_plot_area": {"vi": "diện tích một lô phải từ {lo} đến {hi} ha (1 m² đến 10 km²); kiểm tra đơn vị "
                           "(1 ha = 10.000 m²)",
                     "en": "one plot's area must be {lo} to {hi} ha (1 m² to 10 km²); check the unit "
                           "(1 ha = 10,000 m²)"},
    "fl_bad_value": {"vi": "có số hoặc lựa chọn nằm ngoài khoảng cho phép hoặc sai dạng; kiểm tra lại các ô đã nhập",
                     "en": "a number or choice is out of its range or in the wrong form; check what you entered"},
    "fl_bad_text": {"vi": "chữ nhập vào có ký tự không lưu được hoặc quá dài; hãy gõ lại ngắn hơn",
                    "en": "the text has characters that cannot be stored, or is too long; type it again, shorter"},
    "fl_bad_time": {"vi": "ngày không hợp lệ: phải từ năm 1970 đến hôm nay, không được ở tương lai",
                    "en": "the date is not valid: it must be between 1970 and today, not in the future"},
    "fl_bad_label": {"vi": "kết quả này không phải vấn đề mà mô hình đang dùng biết; không lưu được",
                     "en": "this result is not a problem the model in use knows; it cannot be saved"},
    "fl_duplicate": {"vi": "đã có rồi (tên lô, mã lô hoặc lần xác nhận này đã có trong sổ)",
                     "en": "it is already there (the plot name, the lot code or this confirmation is in the log)"},
    "fl_similar_name": {"vi": "tên lô quá giống lô \u201c{other}\u201d đã có (chỉ khác dấu, khoảng trắng hoặc dấu "
                              "câu); hãy chọn lô đó hoặc đặt một tên khác hẳn",
                        "en": "the plot name is too close to the existing plot \u201c{other}\u201d (only accents, "
                              "spaces or punctuation differ); choose that plot or a clearly different name"},
    "fl_unknown_plot": {"vi": "không có lô ruộng tên này", "en": "no plot with that name"},
    "fl_unknown_lot": {"vi": "không có lô thu hoạch với mã này", "en": "no harvest lot with that code"},
    "fl_not_an_image": {"vi": "không đọc được ảnh (tệp hỏng, quá lớn hoặc không phải ảnh)",
                        "en": "the photo could not be read (damaged, too large or not a photo)"},
    "fl_db_unavailable": {"vi": "không mở được sổ ghi chép; báo người quản lý máy chủ",
                          "en": "the field log database cannot be opened; tell whoever runs the server"},
    "fl_db_driver_missing": {"vi": "máy chủ chưa cài trình kết nối cơ sở dữ liệu của sổ ghi chép; báo người quản lý máy chủ",
                             "en": "the server lacks the field log's database driver; tell whoever runs the server"},
    "fl_backup_failed": {"vi": "không sao lưu được; sổ ghi chép không bị thay đổi",
                         "en": "the backup could not be written; the log was not changed"},
    "fl_backup_not_supported": {"vi": "máy chủ này chưa sao lưu được loại cơ sở dữ liệu này",
                                "en": "this server cannot back up this kind of database"},
    "fl_export_failed": {"vi": "không ghi được tệp báo cáo", "en": "the report file could not be written"},
    # Log tab: refusals that are not "could not save", and the Diagnose tab's new plot's area
    "fl_not_finite": {"vi": "\u201c{value}\u201d không phải là một số; hãy nhập một số như 1,5",
                      "en": "\u201c{value}\u201d is not a number; enter a number such as 1.5"},
    "review_no_such": {"vi": "Không có quan sát số \u201c{id}\u201d trong sổ; hãy kiểm tra lại số quan sát.",
                       "en": "There is no observation \u201c{id}\u201d in the log; check the observation number."},
    "log_audit_bad_year": {"vi": "Năm \u201c{y}\u201d không kiểm tra được: hãy nhập một năm từ 1970 đến {hi}.",
                           "en": "The year \u201c{y}\u201d cannot be audited: enter a year from 1970 to {hi}."},
    "log_audit_need_year": {"vi": "Hãy nhập năm cần kiểm tra (từ 1970 đến {hi}).",
                            "en": "Enter the year to audit (1970 to {hi})."},
    "log_need_area": {"vi": "Hãy nhập diện tích lô (ha; 1 sào = 360 m² = 0,036 ha).",
                      "en": "Enter the plot's area (ha; 1 sào = 360 m² = 0.036 ha)."},
    "log_export_error": {"vi": "Không xuất được báo cáo: {msg}", "en": "Could not export the report: {msg}"},
    "log_audit_error": {"vi": "Không kiểm tra được: {msg}", "en": "Could not audit: {msg}"},
    "log_read_error": {"vi": "Không đọc được sổ: {msg}", "en": "Could not read the log: {msg}"},
    "new_plot_area": {"vi": "Diện tích lô mới (ha; 1 sào = 360 m² = 0,036 ha)",
                      "en": "New plot's area (ha; 1 sào = 360 m² = 0.036 ha)"},
    "new_plot_need_area": {"vi": "Chưa lưu: lô mới \u201c{plot}\u201d cần diện tích để tính đúng lượng đồng trên "
                                 "mỗi ha. Hãy nhập diện tích lô mới (ha; 1 sào = 360 m² = 0,036 ha), hoặc thêm lô ở "
                                 "thẻ \u201cSổ ghi chép\u201d rồi chọn lô đó.",
                           "en": "Not saved: the new plot \u201c{plot}\u201d needs its area to work out copper per "
                                 "hectare correctly. Enter the new plot's area (ha; 1 sào = 360 m² = 0.036 ha), or add "
                                 "the plot in the \u201cLog\u201d tab and choose it."},
}

def t(key: str, lang: str = DEFAULT_LANG, **fmt) -> str:
    """The app's text for `key` in `lang` (unknown language: Vietnamese). A missing key is a bug: KeyError."""
    return lookup(STRINGS, key, lang, **fmt)


def num(x, lang: str = DEFAULT_LANG) -> str:
    """A number for people: no exponent, grouped thousands, up to 2 decimals (more for a number under 1, so
    0.0001 ha is not 0), the page's marks (vi: 48.000.000 and 0,0001; en: 48,000,000 and 0.0001)."""
    import math

    x = float(x)
    if not math.isfinite(x):
        return str(x)
    digits = 2
    if 0 < abs(x) < 1:
        digits = min(8, max(2, 1 - math.floor(math.log10(abs(x)))))
    text = f"{x:,.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    if lang == "vi":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text
