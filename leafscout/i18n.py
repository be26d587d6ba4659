"""What the command line says to a person, in Vietnamese and English: one table, like the app's webapp/i18n.py.

Crop, problem and insect names come from the advisor's knowledge base (`problem_name`, `kb_names`); every
other sentence a farmer reads from `leafscout diagnose ... --advise vi` (the result line, why it is uncertain,
insects counted, the closing count) and the copper-cap warning of `leafscout log act` are here. The lot PDF's
own words live with the PDF (fieldlog/export.py, PDF_TEXT), which cannot import this package. Machine output (--json, --csv) stays
language-free and does not use this table.

Imports nothing heavy: the advisor is passed in by the caller.
"""
from __future__ import annotations

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"

STRINGS: dict[str, dict[str, str]] = {
    # `leafscout diagnose` (text output)
    "then": {"vi": "khả năng khác: {others}", "en": "then {others}"},
    "uncertain": {"vi": "chưa chắc chắn", "en": "uncertain"},
    "not_a_leaf": {"vi": "không thấy lá", "en": "not a leaf"},
    "error": {"vi": "không đọc được ảnh", "en": "error"},
    "why_crop_mismatch": {"vi": "ảnh không giống cây trồng đã chọn; đừng xử lý theo kết quả này, hãy kiểm tra lại cây "
                                "trồng hoặc để trống để máy tự nhận",
                          "en": "the photo does not look like the crop you chose; do not act on this answer, check the "
                                "crop or leave it empty to let the model decide"},
    "group_mixed": {"vi": "các ảnh giống những cây khác nhau ({crops}): một nhóm phải là cùng một cây",
                    "en": "the photos look like different crops ({crops}): a group must be one plant"},
    "why_unfamiliar": {"vi": "có cây trong ảnh nhưng máy chưa nhận ra cây trồng hoặc vấn đề này; đây là các khả "
                             "năng gần nhất",
                       "en": "a plant is in the photo but the model does not recognise this crop or problem yet; "
                             "the nearest labels are shown"},
    "why_no_leaf_seen": {"vi": "ảnh có màu xanh của cây nhưng máy không thấy rõ chiếc lá nào (cỏ, cây ở xa hay "
                                "ảnh bị mờ?)",
                         "en": "the photo has plant colour but the model sees no single leaf in it (grass, plants "
                               "far away or a blurred photo?)"},
    "why_unnamed": {"vi": "{crop}: không phải bệnh LeafScout đã biết; hãy chọn vấn đề trong danh mục của {crop}",
                    "en": "{crop}: not one of the diseases LeafScout knows; choose the problem from the {crop} "
                          "entries of the advice"},
    "why_low": {"vi": "độ tin cậy {p} thấp hơn mức {th} cần để kết luận",
                "en": "confidence {p} is under the {th} needed to be sure"},
    "why_unsure": {"vi": "máy chưa đủ chắc để kết luận", "en": "the model is not sure enough"},
    "why_no_leaf": {"vi": "ảnh này không giống ảnh lá cây mà máy đã học",
                    "en": "this photo does not look like the crop leaves the model learned"},
    "retake": {"vi": "hãy chụp lại gần hơn, rõ nét, một chiếc lá, dưới ánh sáng ban ngày",
               "en": "retake a closer, sharp photo of one leaf in daylight"},
    "crop_note": {"vi": "ảnh này giống {other} ({p}) hơn là {crop}; kiểm tra lại cây trồng đã chọn",
                  "en": "the photo looks more like {other} ({p}) than {crop}; check the crop you chose"},
    "crop_not_learned": {"vi": "lô này trồng {crop}: LeafScout chưa gọi tên được vấn đề của cây này qua ảnh; {label} "
                               "chỉ là kết quả gần nhất của cây khác, đừng xử lý theo kết quả này",
                         "en": "the plot grows {crop}: LeafScout cannot name its problems from a photo yet; {label} "
                               "is only the nearest match from another crop: do not act on it"},
    "crop_from_plot": {"vi": "cây trồng lấy theo lô {plot}: {crop} (dùng --crop để chọn cây khác)",
                       "en": "crop taken from plot {plot}: {crop} (--crop chooses another)"},
    "insects": {"vi": "Côn trùng: {n} con {name}: {text}", "en": "insects: {n} x {label}: {text}"},
    "unknown_insect": {"vi": "loài côn trùng chưa có trong cơ sở dữ liệu ({crop})",
                       "en": "an insect the knowledge base has no entry for ({crop})"},
    "summary": {"vi": "{n} ảnh: {ok} có kết quả, {uncertain} chưa chắc chắn, {not_a_leaf} không thấy lá, "
                      "{error} không đọc được (mô hình {version})",
                "en": "{n} photo(s): {ok} ok, {uncertain} uncertain, {not_a_leaf} not a leaf, {error} unreadable "
                      "(model {version})"},
    "no_photos": {"vi": "không có ảnh nào để khám", "en": "no photos to diagnose"},
    "no_photos_in": {"vi": "không có ảnh nào trong thư mục {folder} (tìm các tệp {suffixes})",
                     "en": "no photos in folder {folder} (looked for {suffixes})"},
    "leaves_seen": {"vi": "các lá đã xem (cả ảnh và từng lá cùng quyết định)",
                    "en": "leaves looked at (the whole photo and each leaf decide together)"},
    "not_logged": {"vi": "{path} chưa được ghi vào sổ{why}: {msg}", "en": "{path} not logged{why}: {msg}"},
    "unconfirmed": {"vi": "đã ghi {n} kết quả vào lô {plot} nhưng CHƯA XÁC NHẬN (thiếu --confirmed-by): khi "
                          "kiểm tra mùa vụ, mỗi kết quả chỉ được tính sau khi có người xác nhận bằng lệnh "
                          "`leafscout log confirm ID --by TÊN` (mã số {ids})",
                    "en": "{n} diagnosis(es) logged to plot {plot} UNCONFIRMED (no --confirmed-by): the audit "
                          "counts each once a person confirms it with `leafscout log confirm ID --by NAME` "
                          "(ids {ids})"},
    "interrupted": {"vi": "đã dừng (Ctrl-C) sau {done} trên {n} ảnh", "en": "interrupted (Ctrl-C) after {done} of {n} "
                                                                         "photo(s)"},
    "interrupted_csv": {"vi": "; {csv} có kết quả của các ảnh đã khám", "en": "; {csv} holds the photos done"},
    "interrupted_log": {"vi": "; chạy lại cùng lệnh để khám tiếp: ảnh đã có trong sổ chỉ được gắn với bản ghi cũ, "
                              "không ghi lần nữa",
                        "en": "; run the same command again for the rest: photos already in the log are linked to "
                              "their record, not logged again"},
    "output_failed": {"vi": "không ghi được kết quả ra ({why}); hãy giải phóng bớt dung lượng hoặc ghi ra chỗ khác, "
                            "rồi chạy lại",
                      "en": "cannot write the output ({why}); free some space or write it somewhere else, and run "
                            "again"},
    "empty_substance": {"vi": "--check-substance: hãy nhập tên một chất hoặc sản phẩm, ví dụ 'đồng hydroxit'",
                        "en": "--check-substance: give the name of a substance or product, e.g. 'copper hydroxide'"},
    "warning": {"vi": "cảnh báo", "en": "warning"},
    "error_word": {"vi": "lỗi", "en": "error"},
    "progress_unit": {"vi": "ảnh", "en": "photo"},
    # `leafscout diagnose --group`
    "already_logged": {"vi": "{n} ảnh đã có trong sổ của lô {plot}: gắn với bản ghi cũ, không ghi lại (mã {ids})",
                       "en": "{n} photo(s) already in plot {plot}'s log: linked to their record, not logged again "
                             "(ids {ids})"},
    "refuse_crop": {"vi": "mô hình chưa có nhãn nào cho cây '{crop}'; mô hình biết: {known}. Bỏ --crop để máy tự "
                          "nhận ra cây",
                    "en": "the model has no labels for crop '{crop}' yet; it knows: {known}. Leave out --crop to let "
                          "the model decide"},
    "refuse_plot": {"vi": "không có lô nào tên '{plot}' (các lô đã có: {known}).{hint} Xem danh sách bằng "
                          "`leafscout log plots` hoặc thêm lô bằng `leafscout log add-plot`",
                    "en": "no plot named '{plot}' (known plots: {known}).{hint} List plots with `leafscout log plots` "
                          "or add one with `leafscout log add-plot`"},
    "none_yet": {"vi": "chưa có", "en": "none yet"},
    "unadvised": {"vi": "{n} nhãn của mô hình này chưa có mục trong cơ sở kiến thức, nên kết quả của chúng không kèm "
                        "hướng dẫn xử lý: {labels}; hãy thêm vào advisor/kb (docs/knowledge-base.md)",
                  "en": "{n} label(s) of this model have no knowledge-base entry yet, so their answers come without "
                        "advice: {labels}; add them to advisor/kb (docs/knowledge-base.md)"},
    "check_first": {"vi": "chưa chắc: xem kỹ dấu hiệu trên vài lá trước khi phun",
                    "en": "not sure: check the signs on several leaves before spraying"},
    "group_loose": {"vi": "các ảnh lẻ", "en": "photos given"},
    "group_agree": {"vi": "{agree} trên {voted} ảnh lá cho cùng kết quả; nhóm có {photos} ảnh",
                    "en": "{agree} of {voted} leaf photo(s) agree; {photos} photo(s) in the group"},
    "group_no_voter": {"vi": "không ảnh nào thấy rõ lá; nhóm có {photos} ảnh",
                       "en": "no photo shows a leaf; {photos} photo(s) in the group"},
    "group_duplicates": {"vi": "{n} ảnh trùng với ảnh đã có: chỉ tính một lần",
                         "en": "{n} photo(s) repeat an earlier one: counted once"},
    "group_same_as": {"vi": "trùng với ảnh {i}, không tính", "en": "same photo as {i}, not counted"},
    "group_summary": {"vi": "{groups} nhóm, {n} ảnh (mô hình {version})",
                      "en": "{groups} group(s), {n} photo(s) (model {version})"},
    "group_none": {"vi": "không có ảnh nào trong nhóm cho thấy lá", "en": "no photo of the group shows a leaf"},
    "group_unread": {"vi": "không đọc được ảnh nào trong nhóm", "en": "no photo of the group could be read"},
    # image errors (leafscout.errors.ERROR_CODES)
    "err_no_photo": {"vi": "chưa có ảnh", "en": "no photo was given"},
    "err_empty": {"vi": "tệp rỗng (0 byte)", "en": "the file is empty (0 bytes)"},
    "err_not_image": {"vi": "không phải tệp ảnh (JPEG, PNG, WebP, BMP hoặc TIFF)",
                      "en": "the file is not a photo (JPEG, PNG, WebP, BMP or TIFF)"},
    "err_heic": {"vi": "ảnh HEIC của iPhone chưa đọc được; hãy chọn định dạng JPEG",
                 "en": "an HEIC/HEIF photo, which cannot be decoded yet"},
    "err_too_small": {"vi": "ảnh quá nhỏ", "en": "the photo is too small"},
    "err_too_large": {"vi": "tệp hoặc ảnh quá lớn", "en": "the file or the image is too large"},
    "err_corrupt": {"vi": "tệp ảnh bị hỏng hoặc không đầy đủ", "en": "the photo is damaged or truncated"},
    "err_not_a_file": {"vi": "không phải tệp thông thường", "en": "not a regular file"},
    "err_not_found": {"vi": "không tìm thấy tệp", "en": "file not found"},
    "err_other": {"vi": "không đọc được ảnh", "en": "the photo could not be read"},
    # refusals (leafscout.errors.UsageError, printed by leafscout.cli.main): what a mistake in a command is
    # called, in the run's language; option names, labels, plot and file names stay as typed
    "error_code": {"vi": "{word} [{code}]", "en": "{word} [{code}]"},
    "usage_prefix": {"vi": "cách dùng: ", "en": "usage: "},
    "did_you_mean": {"vi": " Có phải ý bạn là '{name}'?", "en": " Did you mean '{name}'?"},
    "dashed_file": {"vi": " {name} là một tệp nhưng bị đọc như một tùy chọn: hãy viết ./{bare} hoặc đặt -- trước nó.",
                    "en": " {name} is a file read as an option: write ./{bare} or put -- before it."},
    "dashed_value": {"vi": " {value} bắt đầu bằng '-' nên bị đọc như một tùy chọn: hãy viết {joined} (nối bằng "
                           "dấu =).",
                     "en": " {value} starts with '-' and was read as an option: write {joined} (joined with =)."},
    "dashed_positional": {"vi": " {value} bắt đầu bằng '-' nên bị đọc như một tùy chọn: hãy đặt -- trước nó (ví dụ "
                                "{example}).",
                          "en": " {value} starts with '-' and was read as an option: put -- before it (e.g. {example})."},
    # argparse's own messages (its fixed templates; English runs keep argparse's words)
    "ap_invalid_int": {"vi": "{arg}: {value} không phải là số nguyên", "en": "argument {arg}: invalid int value: {value}"},
    "ap_invalid_float": {"vi": "{arg}: {value} không phải là số", "en": "argument {arg}: invalid float value: {value}"},
    "ap_invalid_value": {"vi": "{arg}: giá trị {value} không hợp lệ", "en": "argument {arg}: invalid value: {value}"},
    "ap_invalid_choice": {"vi": "{arg}: không có lựa chọn {value}; hãy chọn một trong: {choices}",
                          "en": "argument {arg}: invalid choice: {value} (choose from {choices})"},
    "ap_expected_one": {"vi": "{arg} cần một giá trị đi sau", "en": "argument {arg}: expected one argument"},
    "ap_expected_at_most_one": {"vi": "{arg} chỉ nhận nhiều nhất một giá trị",
                                "en": "argument {arg}: expected at most one argument"},
    "ap_expected_at_least_one": {"vi": "{arg} cần ít nhất một giá trị",
                                 "en": "argument {arg}: expected at least one argument"},
    "ap_expected_n": {"vi": "{arg} cần {n} giá trị", "en": "argument {arg}: expected {n} arguments"},
    "ap_ignored_explicit": {"vi": "{arg} không nhận giá trị đi kèm ({value})",
                            "en": "argument {arg}: ignored explicit argument {value}"},
    "ap_not_allowed_with": {"vi": "{arg} không dùng cùng với {other}",
                            "en": "argument {arg}: not allowed with argument {other}"},
    "ap_unrecognized": {"vi": "không hiểu tham số: {args}", "en": "unrecognized arguments: {args}"},
    "ap_required": {"vi": "còn thiếu tham số bắt buộc: {args}", "en": "the following arguments are required: {args}"},
    "ap_one_of_required": {"vi": "cần một trong các tham số: {args}", "en": "one of the arguments {args} is required"},
    "ap_ambiguous": {"vi": "tùy chọn {option} chưa rõ, có thể là: {matches}",
                     "en": "ambiguous option: {option} could match {matches}"},
    "ap_other": {"vi": "câu lệnh chưa đúng ({message})", "en": "{message}"},
    # the commands' own refusals
    "at_least_one": {"vi": "{flag} phải từ 1 trở lên, không phải {value}", "en": "{flag} must be 1 or more, got {value}"},
    "bad_advise_lang": {"vi": "--advise: ngôn ngữ phải là en hoặc vi, không phải '{value}'",
                        "en": "--advise language must be en or vi, got '{value}'"},
    "two_langs": {"vi": "--lang {given} và --advise {advise} là hai ngôn ngữ khác nhau; hãy chọn một (ví dụ: "
                        "--lang {given} --advise)",
                  "en": "--lang {given} and --advise {advise} ask for two languages; give one (e.g. --lang {given} "
                        "--advise)"},
    "group_alone": {"vi": "--group cho một kết quả cho mỗi cây; chưa dùng được cùng với --log, --csv, --heatmaps "
                          "hay --tta: hãy chạy không có --group khi cần các tùy chọn đó",
                    "en": "--group gives one answer per plant; it cannot be combined with --log, --csv, --heatmaps "
                          "or --tta yet: run without --group for those"},
    "confirmed_needs_log": {"vi": "--confirmed-by là tên người xác nhận các kết quả ghi vào sổ bằng --log LÔ; hãy "
                                  "thêm --log LÔ",
                            "en": "--confirmed-by names who confirms the diagnoses written with --log PLOT; add "
                                  "--log PLOT"},
    "confirmed_length": {"vi": "--confirmed-by: cần tên của một người (từ 1 đến 200 ký tự), nhận được {n} ký tự",
                         "en": "--confirmed-by: expected a person's name (1 to 200 characters), got {n} characters"},
    "bad_text": {"vi": "{flag}: có ký tự không lưu được vào sổ (ký tự điều khiển hoặc byte lỗi); hãy gõ lại",
                 "en": "{flag}: {detail}"},
    "not_an_officer": {"vi": "{flag} '{name}' không phải là cán bộ trong {path}{hint}; các cán bộ: {known} (thêm "
                             "cán bộ bằng `leafscout officers add TÊN`)",
                       "en": "{detail}"},
    "csv_is_folder": {"vi": "--csv {path}: đây là một thư mục; hãy nhập tên tệp, ví dụ {example}",
                      "en": "--csv {path}: is a folder; give a file name such as {example}"},
    "csv_no_folder": {"vi": "--csv {path}: thư mục {folder} không tồn tại; hãy tạo thư mục đó hoặc chọn đường dẫn "
                            "khác",
                      "en": "--csv {path}: folder {folder} does not exist; create it or choose another path"},
    "csv_cannot_open": {"vi": "--csv {path}: không ghi được tệp ({why}); hãy chọn đường dẫn khác",
                        "en": "--csv {path}: cannot write it ({why}); choose another path"},
    "csv_cannot_write": {"vi": "--csv {path}: không ghi tiếp được ({why}) sau {rows} dòng ảnh; hãy giải phóng bớt "
                               "dung lượng hoặc chọn đường dẫn khác, rồi chạy lại",
                         "en": "--csv {path}: cannot write it ({why}) after {rows} photo row(s); free some space or "
                               "choose another path, and run again"},
    "heat_is_file": {"vi": "--heatmaps {path}: đây là một tệp; hãy chọn một thư mục để lưu ảnh bản đồ nhiệt",
                     "en": "--heatmaps {path}: is a file; give a folder for the heatmap images"},
    "heat_cannot_create": {"vi": "--heatmaps {path}: không tạo được thư mục ({why}); hãy chọn thư mục khác",
                           "en": "--heatmaps {path}: cannot create it ({why}); choose another folder"},
    "heat_not_writable": {"vi": "--heatmaps {path}: không ghi được vào thư mục này; hãy chọn thư mục khác",
                          "en": "--heatmaps {path}: cannot write into it; choose another folder"},
    "heat_cannot_write": {"vi": "--heatmaps {path}: không ghi được {name} (ổ đĩa đã đầy, hay đã có thư mục trùng tên?); "
                                "hãy giải phóng bớt dung lượng hoặc chọn thư mục khác, rồi chạy lại",
                          "en": "--heatmaps {path}: cannot write {name} (disk full, or something else of that name "
                                "there?); free some space or choose another folder, and run again"},
    "no_model": {"vi": "không có tệp mô hình ở {path}; bỏ --model để dùng mô hình có sẵn, hoặc kiểm tra lại đường dẫn",
                 "en": "{detail}"},
    "bad_model": {"vi": "{path} không phải là mô hình LeafScout dùng được (tệp hỏng, hoặc không phải mô hình ONNX "
                        "của LeafScout); hãy tải lại hoặc xuất lại mô hình, hoặc bỏ --model để dùng mô hình có sẵn",
                  "en": "{detail}"},
    "kb_mismatch": {"vi": "cơ sở kiến thức không khớp với mô hình này: {detail}",
                    "en": "the knowledge base does not fit this model: {detail}"},
    "no_log": {"vi": "không có sổ ghi chép nào ở {path}: kiểm tra lại --db (hoặc $LEAFSCOUT_DB); không có gì được "
                     "tạo ra. Sổ mới bắt đầu bằng `leafscout log add-plot TÊN --crop CÂY --area HA`",
               "en": "no field log at {path}: check --db (or $LEAFSCOUT_DB); nothing was created. A new log starts "
                     "with `leafscout log add-plot NAME --crop C --area HA`"},
    "bad_days": {"vi": "--days-to-harvest {value}: số ngày đến khi thu hoạch phải từ 0 đến 10000",
                 "en": "{detail}"},
    "bad_copper": {"vi": "{flag} {value}: lượng đồng phải là số kg Cu/ha, từ 0 đến dưới 1000", "en": "{detail}"},
    "bad_crop_input": {"vi": "--crop {crop}: không dùng được tên cây này; bỏ --crop để máy tự nhận ra cây",
                       "en": "{detail}"},
    "refuse_kb_crop": {"vi": "cơ sở kiến thức không có cây '{crop}'{hint}; các cây có: {known}",
                       "en": "{detail}"},
    "refuse_label": {"vi": "không có vấn đề '{label}' trong cơ sở kiến thức{hint}; hãy nhập mã dạng cây.vấn_đề, ví dụ "
                           "tomato.late_blight (xem danh sách bằng `leafscout advise --list`)",
                     "en": "{detail}"},
    "near_label": {"vi": " (có phải ý bạn là '{label}': {name}?)", "en": " (did you mean '{label}'?)"},
    "near_name": {"vi": " (có phải ý bạn là '{name}'?)", "en": " (did you mean '{name}'?)"},
    "list_takes_no_label": {"vi": "--list chỉ liệt kê các vấn đề, không đi kèm NHÃN (đã nhập {label}); lọc danh sách "
                                  "bằng --crop CÂY, hoặc bỏ --list để xem hướng dẫn cho nhãn này",
                            "en": "--list lists the problems and takes no LABEL, got {label}; narrow the list with "
                                  "--crop CROP, or leave --list out to advise on the label"},
    "give_label": {"vi": "hãy nhập một NHÃN, ví dụ tomato.late_blight, hoặc dùng --list để xem danh sách",
                   "en": "give a LABEL such as tomato.late_blight, or --list to see them"},
    "two_crops": {"vi": "--crop {crop} và nhãn {label} là của hai cây khác nhau; hãy nhập một nhãn của {crop} "
                        "(leafscout advise --list --crop {quoted}) hoặc bỏ --crop",
                  "en": "--crop {crop} and the label {label} name two different crops; give a {crop} label "
                        "(leafscout advise --list --crop {quoted}) or leave --crop out"},
    "bad_kb": {"vi": "không nạp được cơ sở kiến thức {path}; các lỗi tìm thấy:{problems}", "en": "{detail}"},
    # `leafscout officers ...` and a --by/--confirmed-by NAME checked against the officers file (cli_officers):
    # which step refused (the file, the name, the password), said from what the step was given
    "off_no_file": {"vi": "{path}: chưa có tệp danh sách cán bộ; hãy thêm một cán bộ trước: leafscout officers add "
                          "TÊN --file {path}",
                    "en": "{detail}"},
    "off_cannot_read": {"vi": "{path}: không đọc được tệp danh sách cán bộ ({why})", "en": "{detail}"},
    "off_not_a_file": {"vi": "{path}: không phải là tệp", "en": "{detail}"},
    "off_mode": {"vi": "{path}: người dùng khác đọc hoặc sửa được tệp này (quyền {mode}); hãy chạy: chmod 600 {path}",
                 "en": "{detail}"},
    "off_not_ours": {"vi": "{path}: không phải tệp danh sách cán bộ của LeafScout, hoặc có mục không giữ mật khẩu đã "
                           "mã hóa; hãy kiểm tra lại --file, hoặc xóa mục hỏng rồi thêm lại cán bộ đó",
                     "en": "{detail}"},
    "off_cannot_write": {"vi": "{path}: không ghi được tệp danh sách cán bộ (thư mục không ghi được, hoặc ổ đĩa đã "
                               "đầy); không có gì thay đổi",
                         "en": "{detail}"},
    "off_name_empty": {"vi": "{flag}hãy nhập tên cán bộ, ví dụ \"Lò Thị Hoa\"", "en": "{detail}"},
    "off_name_long": {"vi": "{flag}tên cán bộ dài tối đa {max} ký tự, tên này có {n} ký tự", "en": "{detail}"},
    "off_name_control": {"vi": "{flag}tên cán bộ có ký tự điều khiển hoặc ký tự ẩn; hãy gõ lại", "en": "{detail}"},
    "off_pw_empty": {"vi": "mật khẩu đang trống; hãy nhập mật khẩu có ít nhất {min} ký tự", "en": "{detail}"},
    "off_pw_short": {"vi": "mật khẩu cần ít nhất {min} ký tự, mật khẩu này có {n} ký tự", "en": "{detail}"},
    "off_pw_long": {"vi": "mật khẩu dài tối đa {max} ký tự", "en": "{detail}"},
    "off_pw_spaces": {"vi": "mật khẩu không được có khoảng trắng ở đầu hay cuối, hay ký tự điều khiển (thừa một "
                            "dấu xuống dòng?)",
                      "en": "{detail}"},
    "off_pw_stdin_empty": {"vi": "--password-stdin: không có gì trên stdin; hãy truyền mật khẩu vào, ví dụ printf "
                                 "'%s\\n' \"$PW\" | leafscout officers add TÊN --password-stdin",
                           "en": "--password-stdin: nothing on stdin; pipe the password in, e.g. printf '%s\\n' "
                                 "\"$PW\" | leafscout officers add NAME --password-stdin"},
    "off_no_terminal": {"vi": "không có cửa sổ dòng lệnh để hỏi mật khẩu; hãy dùng --password-stdin",
                        "en": "no terminal to ask for the password; use --password-stdin"},
    "off_pw_differ": {"vi": "hai mật khẩu không giống nhau; không có gì thay đổi",
                      "en": "the two passwords differ; nothing was changed"},
    "off_exists": {"vi": "đã có cán bộ '{name}'; để đặt mật khẩu mới, hãy thêm --replace",
                   "en": "officer {quoted} already exists; to set a new password add --replace"},
    "off_unknown_replace": {"vi": "không có cán bộ '{name}'{hint}; bỏ --replace để thêm cán bộ mới",
                            "en": "{detail}"},
    "off_unknown": {"vi": "không có cán bộ '{name}' trong {path}{hint}; các cán bộ: {known}", "en": "{detail}"},
    "off_prompt": {"vi": "Mật khẩu của cán bộ: ", "en": "Password for the officer: "},
    "off_prompt_again": {"vi": "Nhập lại mật khẩu: ", "en": "The same password again: "},
    # field-log refusals (fieldlog.errors codes) a CLI run meets: the code is shown beside them
    "log_needs_confirmation": {"vi": "máy không thấy lá trong ảnh này nên chưa phải là chẩn đoán; chỉ ghi vào sổ khi có "
                                     "người đã xem ảnh và xác nhận (--confirmed-by TÊN)",
                               "en": "the model found no leaf in this photo, so it is not a diagnosis; it is logged "
                                     "only once a person has looked at it and confirms it (--confirmed-by NAME)"},
    "log_bad_label": {"vi": "kết quả này không phải vấn đề mà sổ ghi chép biết; không ghi được",
                      "en": "this result is not a problem the field log knows; it cannot be logged"},
    "log_not_an_image": {"vi": "không đọc được ảnh để lưu vào sổ (tệp hỏng, quá lớn hoặc không phải ảnh)",
                         "en": "the photo could not be stored (damaged, too large or not a photo)"},
    "log_bad_text": {"vi": "có chữ không lưu được vào sổ (ký tự điều khiển, byte lỗi hoặc quá dài)",
                     "en": "some text cannot be stored (a control character, bad bytes or too long)"},
    "log_duplicate": {"vi": "bản ghi này đã có trong sổ", "en": "this record is already in the log"},
    "log_db_unavailable": {"vi": "không mở được sổ ghi chép (--db {db}): đường dẫn là một thư mục hay không phải tệp "
                                 "sổ, tệp đang bị chương trình khác (ứng dụng, một lệnh leafscout khác) giữ, hoặc "
                                 "không kết nối được máy chủ cơ sở dữ liệu; kiểm tra lại rồi chạy lại lệnh",
                           "en": "the field log cannot be opened (--db {db}); check the path or the database server"},
    "log_db_driver_missing": {"vi": "máy này chưa cài trình kết nối cơ sở dữ liệu mà --db cần (PostgreSQL: pip "
                                    "install 'leafscout[postgres]')",
                              "en": "this machine lacks the database driver --db needs (PostgreSQL: pip install "
                                    "'leafscout[postgres]')"},
    "log_other": {"vi": "sổ ghi chép không nhận bản ghi này", "en": "the field log refused this record"},
    # `leafscout log ...`, `export`, `corrections export`, `log import` (cli_log.log_refusal): the field log's code,
    # said for the command that met it (log_<action>_<code>, else log_<code>); English keeps the field log's words
    "lc_lang": {"vi": "ngôn ngữ của các thông báo, lỗi và cảnh báo (mặc định {default})",
                 "en": "language of its messages, refusals and warnings (default {default})"},
    "lc_bad_value": {"vi": "có giá trị chưa đúng (một số ngoài khoảng cho phép, hoặc viết sai dạng); xem `{help}`",
                      "en": "{detail}"},
    "lc_add-plot_bad_value": {"vi": "--area {area}: diện tích lô phải từ 0,0001 đến 1000 ha (1 m2 đến 1000 ha)",
                              "en": "{detail}"},
    "lc_name_empty": {"vi": "hãy nhập tên, không để trống", "en": "{detail}"},
    "lc_add-farm_not_found": {"vi": "--farm {farm}: không có trang trại hay hợp tác xã nào tên này (đã có: "
                                     "{known}); thêm trước bằng `leafscout log add-farm TÊN`",
                               "en": "{detail}"},
    "lc_observe_bad_value": {"vi": "--confidence {confidence}: độ tin cậy là một tỉ lệ từ 0 đến 1 (viết 0.9 cho 90%), "
                                    "và --model-version không được để trống",
                              "en": "{detail}"},
    "lc_act_bad_value": {"vi": "lượng đồng hoặc liều dùng chưa đúng: một lần phun chỉ từ 0 đến 6 kg Cu/ha (nhãn "
                                "thuốc thường 0,2-2); kiểm tra lại đơn vị (g hay kg) và lượng cho cả lô hay cho mỗi ha",
                          "en": "{detail}"},
    "lc_confirm_bad_value": {"vi": "không có quan sát số {id}; xem mã số bằng `leafscout log history LÔ`",
                              "en": "{detail}"},
    "lc_correct_bad_value": {"vi": "không có quan sát số {id}; xem mã số bằng `leafscout log history LÔ`",
                              "en": "{detail}"},
    "lc_add-lot_bad_value": {"vi": "--kg {kg}: khối lượng lô thu hoạch chưa đúng (phải là số kg từ 0 trở lên)",
                              "en": "{detail}"},
    "lc_audit_bad_value": {"vi": "ngày kết thúc kiểm tra phải sau ngày bắt đầu", "en": "{detail}"},
    "lc_bad_time": {"vi": "ngày giờ chưa đúng: hãy viết theo dạng NĂM-THÁNG-NGÀY, ví dụ 2026-03-01 hoặc "
                           "2026-03-01T07:30, trong khoảng năm 1970 đến 9999 và không phải ngày trong tương lai",
                     "en": "{detail}"},
    "lc_observe_bad_label": {"vi": "--label {label}: không phải nhãn dạng cây.vấn_đề (chữ thường, ví dụ coffee.rust) "
                                    "mà mô hình hoặc cơ sở kiến thức biết",
                              "en": "{detail}"},
    "lc_add-plot_duplicate": {"vi": "đã có lô tên '{name}' trong sổ; dùng lô đó, hoặc chọn tên khác", "en": "{detail}"},
    "lc_add-farm_duplicate": {"vi": "đã có trang trại hoặc hợp tác xã tên '{name}' trong sổ; dùng tên đó, hoặc chọn "
                                     "tên khác",
                               "en": "{detail}"},
    "lc_add-lot_duplicate": {"vi": "đã có lô thu hoạch mã '{lot}'; mỗi mã lô chỉ dùng một lần", "en": "{detail}"},
    "lc_confirm_duplicate": {"vi": "quan sát số {id} đã được xác nhận rồi, hoặc đã được sửa nhãn (khi đó nhãn của "
                                    "máy không xác nhận được nữa); xem `leafscout log history LÔ`",
                              "en": "{detail}"},
    "lc_correct_duplicate": {"vi": "quan sát số {id} đã mang nhãn {label}; nếu nhãn đó đúng, hãy xác nhận bằng "
                                    "`leafscout log confirm {id} --by TÊN`",
                              "en": "{detail}"},
    "lc_similar_name": {"vi": "tên '{name}' gần giống một tên đã có trong sổ (chỉ khác dấu, khoảng trắng hoặc dấu "
                               "câu); dùng tên đã có, hoặc thêm --allow-similar để giữ cả hai",
                         "en": "{detail}"},
    "lc_unknown_lot": {"vi": "không có lô thu hoạch nào mã '{target}'{hint}", "en": "{detail}"},
    "refuse_target": {"vi": "không có lô ruộng hay lô thu hoạch nào tên '{target}' (đã có: {known}).{hint} Xem các lô "
                            "bằng `leafscout log plots`",
                      "en": "{detail}"},
    "lc_observe_not_an_image": {"vi": "{photo}: không đọc được ảnh để lưu vào sổ (không có tệp, tệp hỏng, quá lớn "
                                       "hoặc không phải ảnh); hãy đưa đường dẫn tới một ảnh JPEG hoặc PNG",
                                 "en": "{detail}"},
    "lc_copper_required": {"vi": "thuốc gốc đồng cần ghi lượng đồng: thêm --copper KG_HA, hoặc --amount và --unit "
                                  "cùng hoạt chất (--substance) hay hàm lượng đồng (--copper-content) để tính ra; hai sản phẩm đồng "
                                  "ghi chung một liều thì không tính được: ghi --copper, hoặc ghi từng sản phẩm một",
                            "en": "{detail}"},
    "lc_observe_needs_confirmation": {"vi": "kết quả có trạng thái '{status}' chưa phải là chẩn đoán; chỉ ghi vào sổ khi "
                                             "có người đã xem ảnh và xác nhận nhãn (--confirmed-by TÊN), hoặc chụp lại "
                                             "rõ hơn một chiếc lá",
                                       "en": "{detail}"},
    "lc_read_only": {"vi": "sổ ghi chép {db} nằm ở nơi chỉ đọc được (USB chống ghi, thư mục chia sẻ chỉ đọc, hoặc "
                            "thư mục bạn không có quyền ghi): không có gì được ghi. Các lệnh đọc (plots, history, "
                            "audit, export, qr, backup) vẫn dùng được; để thêm bản ghi, hãy chép tệp sổ cùng tệp -wal "
                            "và thư mục photos/ sang một thư mục ghi được, rồi dùng bản sao đó cho --db",
                      "en": "{detail}"},
    "lc_read_only_new": {"vi": "không tạo được sổ ghi chép ở {db}: thư mục nằm ở nơi chỉ đọc được (USB chống ghi, "
                                "thư mục chia sẻ chỉ đọc, hoặc thư mục bạn không có quyền ghi); không có gì được ghi. "
                                "Hãy chọn một thư mục ghi được cho --db",
                          "en": "{detail}"},
    "lc_backup_failed": {"vi": "không sao lưu được vào {file}: hãy chọn một tệp mới trong thư mục ghi được, trên ổ "
                                "đĩa còn chỗ trống (ví dụ sao-luu.sqlite); sổ ghi chép không bị thay đổi",
                          "en": "{detail}"},
    "lc_restore_no_file": {"vi": "không có tệp sao lưu nào ở {file}; hãy đưa tệp .sqlite mà `leafscout log backup` đã "
                                 "tạo",
                           "en": "{detail}"},
    "lc_restore_backup_failed": {"vi": "không khôi phục được từ {file}: hãy đưa tệp .sqlite mà `leafscout log backup` "
                                        "đã tạo (không phải chính tệp sổ này); nếu các bản ghi đã được khôi phục mà ảnh "
                                        "chưa chép được, hãy chép thư mục photos/ của bản sao lưu vào cạnh sổ",
                                  "en": "{detail}"},
    "lc_backup_not_supported": {"vi": "sổ ghi chép trên PostgreSQL: sao lưu bằng pg_dump và khôi phục bằng "
                                       "pg_restore (máy này cần có chương trình pg_dump)",
                                 "en": "{detail}"},
    "lc_export_failed": {"vi": "không ghi được {path}: hãy chọn một thư mục ghi được, còn chỗ trống (ví dụ --{fmt} "
                               "~/{name})",
                         "en": "{detail}"},
    "lc_export_failed_pdf": {"vi": "không tạo được tệp PDF {path}: hãy chọn một thư mục ghi được, còn chỗ trống (ví dụ "
                                   "--pdf ~/{name}); nếu vẫn không được (trang PDF không dàn được), hãy xuất --html hoặc "
                                   "--csv",
                             "en": "{detail}"},
    "lc_no_log": {"vi": "không có sổ ghi chép nào ở {path}: kiểm tra lại --db (hoặc $LEAFSCOUT_DB); không có gì được "
                         "tạo ra. Sổ mới bắt đầu bằng `leafscout log add-plot TÊN --crop CÂY --area HA` (hoặc add-farm)",
                   "en": "no field log at {path}: check --db (or $LEAFSCOUT_DB); nothing was created. A new log starts "
                         "with `leafscout log add-plot NAME --crop C --area HA` (or add-farm)."},
    "lc_cannot_write": {"vi": "{file}: không ghi được ({why})", "en": "{detail}"},
    # `leafscout batch` (cli_batch, leafscout/batch.py)
    "scale_missing": {"vi": "{what} cần {module}, mà máy này chưa cài; hãy cài phần mở rộng 'scale': pip install "
                            "\"leafscout[scale]\"",
                      "en": "{what} needs {module}, which is not installed; install the 'scale' extra: pip install "
                            "\"leafscout[scale]\""},
    "scale_parquet": {"vi": "ghi tệp Parquet", "en": "writing Parquet"},
    "scale_ray": {"vi": "chạy bằng Ray (--engine ray)", "en": "the Ray engine"},
    "out_is_file": {"vi": "--out {out}: đây là một tệp; hãy chọn một thư mục để lưu results.parquet và results.csv",
                    "en": "--out {out}: is a file; give a folder for results.parquet and results.csv"},
    "out_cannot_create": {"vi": "--out {out}: không tạo được thư mục ({why})", "en": "--out {out}: cannot create it ({why})"},
    "out_bad_part": {"vi": "--out {out}: không đọc được {name} ({kind}); hãy chuyển tệp đó ra chỗ khác rồi chạy lại",
                     "en": "--out {out}: cannot read {name} ({kind}); move it away and run again"},
    "bad_engine": {"vi": "--engine phải là auto, local hoặc ray, không phải {value}",
                   "en": "--engine must be auto, local or ray, got {value}"},
    "ray_unreachable": {"vi": "--address {address}: không kết nối được cụm máy Ray ({why}); ở đó đã chạy `ray start "
                              "--head` chưa, và địa chỉ có dạng host:6379 (hoặc ray://host:10001) không?",
                        "en": "--address {address}: cannot reach the Ray cluster ({why}); is `ray start --head` "
                              "running there, and is the address host:6379 (or ray://host:10001)?"},
    "ray_cannot_start": {"vi": "không khởi động hay kết nối được {where}: {first}{hint}",
                         "en": "cannot start or reach {where}: {first}{hint}"},
    "ray_where_cluster": {"vi": "cụm máy Ray ở {address}", "en": "the Ray cluster at {address}"},
    "ray_where_local": {"vi": "Ray trên máy này", "en": "a local Ray instance"},
    "ray_busy_hint": {"vi": " (máy đang bận có thể quá giới hạn 30 giây để khởi động Ray: hãy thử lại, hoặc dùng "
                            "--engine local)",
                      "en": " (a busy machine can miss Ray's 30 s start limit: try again, or --engine local)"},
    "batch_own_photos": {"vi": "bỏ qua {n} tệp trong thư mục ảnh riêng của sổ ghi chép {store} (bản sao của ảnh đã "
                               "ghi vào sổ)",
                         "en": "{n} file(s) under the field log's own photo folder {store} left out (copies of "
                               "photos already logged)"},
    "batch_interrupted": {"vi": "đã dừng; kết quả các ảnh đã khám nằm trong {parquet} và {csv}; chạy lại cùng lệnh để "
                                "khám nốt phần còn lại",
                          "en": "interrupted; the photos scored so far are in {parquet} and {csv}; run the same "
                                "command again to score the rest"},
    "batch_already_logged": {"vi": "{n} ảnh đã có trong sổ của lô {plot}: gắn với bản ghi cũ, không ghi lại",
                             "en": "{n} photo(s) already in plot {plot}'s log: linked to their record, not logged "
                                   "again"},
    "batch_unconfirmed": {"vi": "đã ghi {n} kết quả vào lô {plot} nhưng CHƯA XÁC NHẬN: khi kiểm tra mùa vụ, mỗi kết "
                                "quả chỉ được tính sau khi có người xác nhận bằng `leafscout log confirm ID --by TÊN`",
                          "en": "{n} diagnosis(es) logged to plot {plot} UNCONFIRMED: the audit counts each once "
                                "confirmed with `leafscout log confirm ID --by NAME`"},
    "batch_summary": {"vi": "{photos} ảnh: {skipped} đã có trong {out} (bỏ qua), {scored} ảnh được khám (--engine {engine}) "
                            "trong {seconds} giây ({rate}/giây): {ok} có kết quả, {uncertain} chưa chắc chắn, {not_a_leaf} "
                            "không thấy lá, {error} không đọc được; {parquet} và {csv}",
                      "en": "{photos} photo(s): {skipped} already in {out} (skipped), {scored} scored with the {engine} "
                            "engine in {seconds} s ({rate}/s): {ok} ok, {uncertain} uncertain, {not_a_leaf} not a "
                            "leaf, {error} unreadable; {parquet} and {csv}"},
    # `leafscout log import FILE` (cli_import)
    "imp_no_file": {"vi": "{path}: không có tệp này; hãy đưa tệp .json mà ứng dụng trên điện thoại đã xuất (Xuất sổ)",
                    "en": "{path}: no such file; give the .json file the phone app exported (Xuất sổ / Export the log)"},
    "imp_not_file": {"vi": "{path}: không phải là tệp (một thư mục, ống dẫn hay thiết bị); hãy đưa tệp .json mà ứng "
                           "dụng trên điện thoại đã xuất (Xuất sổ)",
                     "en": "{path}: not a file (a folder, pipe or device); give the .json file the phone app exported "
                           "(Xuất sổ / Export the log)"},
    "imp_too_big": {"vi": "{path} lớn hơn {gb} GB; hãy xuất ít bản ghi hơn mỗi lần",
                    "en": "{path} is over {gb} GB; export fewer records at a time"},
    "imp_not_json": {"vi": "{path} không phải tệp sổ xuất từ điện thoại (cần tệp JSON mà ứng dụng trên điện thoại ghi ra)",
                     "en": "{path} is not a phone field-log export (expected the JSON file the phone app writes)"},
    "imp_cannot_read": {"vi": "{path}: không đọc được ({why})", "en": "{path}: {why}"},
    "imp_not_export": {"vi": "{path} không phải tệp sổ xuất từ điện thoại (thiếu \"format\": \"{format}\" cùng danh "
                             "sách bản ghi)",
                       "en": "{path} is not a phone field-log export (no \"format\": \"{format}\" with a records list)"},
    "imp_version": {"vi": "{path}: bản xuất phiên bản {version} mà bản LeafScout này chưa biết; hãy cập nhật LeafScout",
                    "en": "{path}: export version {version} is not known to this LeafScout; update it"},
    "imp_summary": {"vi": "đã nhập {imported} bản ghi, {skipped} bản ghi đã có trong sổ, bỏ qua {refused} bản ghi (tất "
                          "cả đều CHƯA XÁC NHẬN: dùng `leafscout log confirm ID --by TÊN` khi đã có người xem từng ảnh)",
                    "en": "imported {imported} record(s), {skipped} already in the log, {refused} refused (all stored "
                          "UNCONFIRMED: `leafscout log confirm ID --by NAME` once a person has checked each photo)"},
    "imp_refused": {"vi": "bỏ qua bản ghi {rid}: {why}", "en": "refused record {rid}: {why}"},
    "imp_not_a_record": {"vi": "không phải một bản ghi", "en": "not a record"},
    "imp_field": {"vi": "trường {field} bị thiếu hoặc không hợp lệ", "en": "{field} is missing or not valid"},
    "imp_status": {"vi": "trạng thái {status} không phải kết quả chẩn đoán mà điện thoại lưu",
                   "en": "status {status} is not a diagnosis the phone saves"},
    "imp_base64": {"vi": "ảnh không đúng dạng base64", "en": "the photo is not valid base64"},
    "imp_log_unknown_plot": {"vi": "không có lô nào tên '{plot}' trong sổ{hint}; thêm lô bằng `leafscout log add-plot`, "
                                  "hoặc dùng --plot, rồi nhập lại cùng tệp",
                             "en": "{detail}"},
    "imp_log_bad_time": {"vi": "thời gian quan sát {at} chưa đúng (cần ngày giờ ISO, từ năm 1970, không ở tương lai)",
                         "en": "{detail}"},
    "imp_log_bad_label": {"vi": "nhãn {label} không phải dạng cây.vấn_đề mà sổ ghi chép biết", "en": "{detail}"},
    "imp_log_not_an_image": {"vi": "ảnh hỏng, quá lớn hoặc không phải ảnh JPEG/PNG", "en": "{detail}"},
    "imp_log_bad_value": {"vi": "độ tin cậy {confidence} phải từ 0 đến 1, và phiên bản mô hình không được để trống",
                          "en": "{detail}"},
    "imp_log_bad_text": {"vi": "có chữ không lưu được vào sổ (ký tự điều khiển, byte lỗi hoặc quá dài)",
                         "en": "{detail}"},
    "qr_kind": {"vi": "--out {out}: cần tên tệp .png hoặc .svg (nhãn in ra cần một trong hai dạng này)",
                "en": "--out {out}: expected a .png or .svg file name (a printed label needs one of those)"},
    "qr_scale": {"vi": "--scale phải từ 1 đến {max} điểm ảnh mỗi ô, không phải {value}",
                 "en": "--scale must be 1 to {max} pixels a module, got {value}"},
    "audit_season": {"vi": "--season: cần một năm từ 1970 đến 9998, không phải {value}",
                     "en": "--season: expected a year from 1970 to 9998, got {value}"},
    "audit_range": {"vi": "hãy nhập --season NĂM, hoặc cả --from NGÀY và --to NGÀY",
                    "en": "give --season YEAR, or both --from DATE and --to DATE"},
    "copper_unchecked": {"vi": "cảnh báo: chưa kiểm tra được giới hạn đồng 7 năm ({detail})",
                         "en": "warning: the 7-year copper cap could not be checked ({detail})"},
    "names_as_ids": {"vi": "tên cây và vấn đề được để nguyên mã như trong sổ ({detail})",
                     "en": "names left as stored ids ({detail})"},
    "correct_label": {"vi": "--label {label}: không phải vấn đề mà mô hình hay cơ sở kiến thức biết.{hint} Nếu đây là "
                            "một vấn đề mới cần dạy cho máy, hãy thêm --new-label",
                      "en": "--label {label} is not a problem the model or the knowledge base knows.{hint} For a new "
                            "problem to train on, add --new-label."},
    "licence_empty": {"vi": "--licence: hãy nhập nội dung giấy phép (hoặc bỏ tùy chọn này để dùng giấy phép mặc định)",
                      "en": "--licence: give the licence text (or leave the option out for the default)"},
    "aside_range": {"vi": "--aside {value}: tỉ lệ lô để riêng phải từ 0 đến 0,9 (ví dụ 0.2)",
                    "en": "--aside {value}: give the share of plots to keep aside, from 0 to 0.9 (e.g. 0.2)"},
    "export_dir_is_file": {"vi": "{out}: đây là một tệp; hãy chọn một thư mục để lưu ảnh xuất ra",
                           "en": "{out}: is a file; give a folder for the exported photos"},
    "export_dir_not_ours": {"vi": "{out}: thư mục không trống và không phải bản xuất dữ liệu sửa nhãn của LeafScout; "
                                  "hãy chọn một thư mục mới hoặc thư mục trống",
                            "en": "{out}: is not empty and holds no LeafScout corrections export; choose a new or "
                                  "empty folder"},
    "export_dir_cannot_create": {"vi": "{out}: không tạo được thư mục ({why})", "en": "{out}: cannot create it ({why})"},
    # what `leafscout log ...` says when it has done something (stdout); records and stored values stay as typed
    "lo_no_log": {"vi": "Chưa có sổ ghi chép ở {path}. Bắt đầu sổ bằng: leafscout log add-plot TÊN --crop coffee "
                        "--area 0.5{db}",
                  "en": "No field log at {path} yet. Start one: leafscout log add-plot NAME --crop coffee --area 0.5"
                        "{db}"},
    "lo_no_plots": {"vi": "Chưa có lô nào. Thêm lô bằng: leafscout log add-plot TÊN --crop coffee --area 0.5",
                    "en": "No plots yet. Add one: leafscout log add-plot NAME --crop coffee --area 0.5"},
    "lo_plots_cols": {"vi": "mã|lô|cây trồng|ha|trạng thái|đồng kg/ha (năm / 7 năm)",
                      "en": "id|plot|crop|ha|status|copper kg/ha (year / 7y)"},
    "lo_no_farms": {"vi": "Chưa có trang trại hay hợp tác xã nào. Thêm bằng: leafscout log add-farm TÊN "
                          "[--kind cooperative]",
                    "en": "No farms or cooperatives yet. Add one: leafscout log add-farm NAME [--kind cooperative]"},
    "lo_farms_cols": {"vi": "mã|tên|loại|tổ chức chứng nhận|địa điểm", "en": "id|name|kind|certifier|location"},
    "lo_kind_farm": {"vi": "trang trại", "en": "farm"},
    "lo_kind_cooperative": {"vi": "hợp tác xã", "en": "cooperative"},
    "lo_added_farm": {"vi": "Đã thêm {kind} {name} (mã {id}); khi thêm lô của {kind} này, dùng --farm {name}.",
                      "en": "Added {kind} {name} (id {id}); give its plots --farm {name}."},
    "lo_added_plot": {"vi": "Đã thêm lô {name} (mã {id}, {crop}, {area} ha, {status}).",
                      "en": "Added plot {name} (id {id}, {crop}, {area} ha, {status})."},
    "lo_crop_photo": {"vi": "LeafScout gọi tên được vấn đề của {name} qua ảnh: ảnh ghi vào lô này được đọc là {name}.",
                      "en": "LeafScout names {name} problems from a photo: photos logged to this plot are read as "
                            "{name}."},
    "lo_crop_advice": {"vi": "LeafScout có lời khuyên cho {name} nhưng chưa gọi tên được vấn đề của cây này qua ảnh: "
                             "ảnh ghi vào lô này mà giống vấn đề của cây khác sẽ được trả lời là 'chưa chắc chắn'.",
                       "en": "LeafScout has advice for {name} but cannot name its problems from a photo yet: a photo "
                             "logged to this plot that looks like another crop's problem is answered 'uncertain'."},
    "lo_crop_unknown": {"vi": "Lưu ý: LeafScout không thấy cây trồng nào nó biết trong {text}; ảnh ghi vào lô này được "
                              "đọc trong số mọi cây trồng. Các cây LeafScout gọi tên được vấn đề qua ảnh: {crops} "
                              "(tên tiếng Anh hoặc tiếng Việt).",
                        "en": "Note: LeafScout finds no crop it knows in {text}; photos logged to this plot are read "
                              "among all crops. Crops it names from a photo: {crops} (English or Vietnamese names)."},
    "lo_review_by": {"vi": "đã được {by} xác nhận", "en": "confirmed by {by}"},
    "lo_review_none": {"vi": "CHƯA XÁC NHẬN: chưa được tính cho đến khi có người xác nhận (leafscout log confirm {id} "
                             "--by TÊN)",
                       "en": "UNCONFIRMED: not counted until a person confirms it (leafscout log confirm {id} --by "
                             "NAME)"},
    "lo_observed": {"vi": "Đã ghi quan sát số {id}: {label} ({status}, {conf}){gps}; {review}.",
                    "en": "Logged observation {id}: {label} ({status}, {conf}){gps}; {review}."},
    "lo_confirmed": {"vi": "Quan sát số {id} ({label}) đã được {by} xác nhận.",
                     "en": "Observation {id} ({label}) confirmed by {by}."},
    "lo_acted": {"vi": "Đã ghi công việc số {id}{this} lúc {when}. Lượng đồng trên lô này: {year} kg/ha trong năm "
                       "{y}, {seven} kg/ha trong 7 năm.",
                 "en": "Logged action {id}{this} on {when}. Copper on this plot: {year} kg/ha in {y}, {seven} kg/ha "
                       "over 7 years."},
    "lo_corrected": {"vi": "Đã sửa nhãn quan sát số {id}: {old} -> {new}, do {by} sửa lúc {at} UTC (ảnh {photo}, mô "
                           "hình {model}).",
                     "en": "Observation {id} corrected: {old} -> {new} by {by} on {at} UTC (photo {photo}, model "
                           "{model})."},
    "lo_history_plot": {"vi": "Lô {name} — {crop}, {area} ha, {status}{location}",
                        "en": "Plot {name} — {crop}, {area} ha, {status}{location}"},
    "lo_history_zone": {"vi": "  (giờ theo đồng hồ của máy này, {zone})", "en": "  (times on this computer's clock, {zone})"},
    "lo_history_empty": {"vi": "  chưa ghi gì", "en": "  nothing recorded yet"},
    "lo_history_seen": {"vi": "thấy", "en": "seen"},
    "lo_history_done": {"vi": "làm", "en": "done"},
    "lo_history_unconfirmed": {"vi": "CHƯA XÁC NHẬN", "en": "UNCONFIRMED"},
    "lo_history_model": {"vi": "mô hình {model}", "en": "model {model}"},
    "lo_history_by": {"vi": ", do {by}", "en": ", by {by}"},
    "lo_history_corrected": {"vi": "đã sửa thành {label}, do {by} sửa lúc {at} (trước là {old})",
                             "en": "corrected to {label} by {by} on {at} (was {old})"},
    "lo_history_answers": {"vi": " (xử lý cho #{id})", "en": " (answers #{id})"},
    "lo_history_copper": {"vi": "  đồng năm {year}: {kg} kg/ha", "en": "  copper {year}: {kg} kg/ha"},
    "lo_history_lot": {"vi": "  lô thu hoạch {code} ngày {at}", "en": "  harvest lot {code} on {at}"},
    "lo_backed_up": {"vi": "Đã sao lưu {where} vào {dest} (kiểm tra toàn vẹn: tốt).",
                     "en": "Backed up {where} to {dest} (integrity check ok)."},
    "lo_restored": {"vi": "Đã khôi phục {where} từ {src}: {n} lô, đúng như bản sao lưu.",
                    "en": "Restored {where} from {src}: {n} plot{s}, as the backup holds them."},
    "lo_restored_kept": {"vi": " Sổ như trước khi khôi phục được giữ ở {kept}.",
                         "en": " The log as it was before is kept in {kept}."},
    "lo_added_lot": {"vi": "Đã thêm lô thu hoạch {code} từ {plots}; mã truy xuất {trace}",
                     "en": "Added harvest lot {code} from {plots}; trace ID {trace}"},
    "lo_wrote_qr": {"vi": "Đã ghi {out}, mã QR chứa {payload}", "en": "Wrote {out} encoding {payload}"},
    "lo_wrote_export": {"vi": "Đã ghi {path}", "en": "Wrote {path}"},  # `leafscout export`, one line a file
    # `leafscout corrections export`: its warnings (corrections.ExportWarning's code) and what it wrote
    "cw_photo_missing": {"vi": "quan sát số {id}: ảnh không có trong thư mục ảnh của sổ; bỏ qua",
                         "en": "observation {id}: its photo is not in the log's photo folder; left out"},
    "cw_labels_not_trained": {"vi": "{n} ảnh mang nhãn mà mô hình chưa có: {labels}. Lệnh `python -m "
                                    "leafscout.training.train --extra-data {out}` sẽ dừng ở các ảnh này cho đến khi "
                                    "từng nhãn được thêm vào datasets/labels.yaml (xem datasets/README.md, mục 'Adding "
                                    "a dataset or a crop'); hoặc chuyển các thư mục đó ra khỏi bản xuất",
                              "en": "{n} photo(s) under label(s) the model does not have yet: {labels}. `python -m "
                                    "leafscout.training.train --extra-data {out}` stops on them until each is added to "
                                    "datasets/labels.yaml (see datasets/README.md, 'Adding a dataset or a crop'); or "
                                    "move those folders out of the export"},
    "cw_wrote": {"vi": "Đã ghi {n} ảnh vào {dir} ({labels}); manifest.csv, manifest.json, README.md.",
                 "en": "Wrote {n} photo(s) to {dir} ({labels}); manifest.csv, manifest.json, README.md."},
    "cw_none": {"vi": "không có nhãn nào", "en": "none"},
    "cw_aside": {"vi": " Trong đó {kept} ảnh được để riêng ở {dir}/aside/ (không dùng để huấn luyện).",
                 "en": " {kept} of them kept aside in {dir}/aside/ (not for training)."},
    # `leafscout officers add|remove|list`: what it did
    "oo_added": {"vi": "Đã thêm cán bộ {name} vào {path}. Mở ứng dụng bằng: python app.py --officers {path}",
                 "en": "Added officer {name} in {path}. Start the app with: python app.py --officers {path}"},
    "oo_replaced": {"vi": "Đã đặt mật khẩu mới cho cán bộ {name} trong {path}. Mở ứng dụng bằng: python app.py "
                          "--officers {path}",
                    "en": "New password set for officer {name} in {path}. Start the app with: python app.py "
                          "--officers {path}"},
    "oo_removed": {"vi": "Đã xoá cán bộ {name} khỏi {path}; người này không đăng nhập được nữa (trang đã mở sẵn vẫn "
                         "giữ phiên đăng nhập cho đến khi trình duyệt đóng).",
                   "en": "Removed officer {name} from {path}; they can no longer log in (a page already open keeps "
                         "its session until the browser closes it)."},
    "oo_none": {"vi": "Chưa có cán bộ nào trong {path}. Thêm bằng: leafscout officers add TÊN --file {path}",
                "en": "No officers in {path}. Add one: leafscout officers add NAME --file {path}"},
    "oo_entry": {"vi": "{name}\tthêm lúc {added}", "en": "{name}\tadded {added}"},
    "oo_changed": {"vi": ", đổi mật khẩu lúc {changed}", "en": ", password changed {changed}"},
    # what a service error code means, when nothing more specific is said (leafscout.errors.ERROR_CODES)
    "err_zip": {"vi": "không mở được tệp zip, hoặc tệp quá lớn", "en": "the zip file could not be opened, or is too large"},
    "err_zip_member": {"vi": "không đọc được một tệp trong zip", "en": "a file inside the zip could not be read"},
    "err_batch_too_big": {"vi": "quá nhiều tệp hoặc quá nhiều dữ liệu trong một lần; hãy chia nhỏ",
                          "en": "too many files or too much data in one request"},
    "err_refused_path": {"vi": "tệp này không phải ảnh được gửi lên", "en": "the file is not an upload"},
    "err_bad_input": {"vi": "có giá trị nhập chưa đúng", "en": "a value in the request is not valid"},
    "err_unknown_plot": {"vi": "không có lô ruộng tên này", "en": "no plot with that name"},
    "err_unknown_crop": {"vi": "mô hình chưa có nhãn nào cho cây này", "en": "the model has no labels for that crop yet"},
    "err_unknown_label": {"vi": "không có vấn đề này trong cơ sở kiến thức", "en": "no such problem in the knowledge base"},
    "err_log_error": {"vi": "sổ ghi chép không nhận bản ghi này", "en": "the field log refused the record"},
    # copper cap warning when a copper action is logged (CLI `log act`, the app's Log tab)
    "substance_not_allowed": {
        "vi": "CẢNH BÁO: {name}: {reason} Bản ghi vẫn được lưu; hãy báo tổ chức chứng nhận.",
        "en": "WARNING: {name}: {reason} The record is kept; tell the certifier."},
    "copper_over_cap": {
        "vi": "CẢNH BÁO: sau lần này, tổng lượng đồng của lô {plot} trong 7 năm ({first}-{last}) là {total} kg "
              "Cu/ha, vượt giới hạn {cap} kg Cu/ha trong 7 năm; không dùng thêm thuốc gốc đồng trên lô này và "
              "báo tổ chức chứng nhận",
        "en": "WARNING: after this action plot {plot} has {total} kg Cu/ha over the 7 years {first}-{last}, above "
              "the cap of {cap} kg Cu/ha in 7 years; use no more copper on this plot and tell the certifier"},
}


def norm_lang(lang: str | None) -> str:
    return lang if lang in LANGS else DEFAULT_LANG


def lookup(strings: dict, key: str, lang: str = DEFAULT_LANG, **fmt) -> str:
    """The text for `key` in `lang` from a {key: {lang: text}} table (unknown language: Vietnamese), filled
    with `fmt`. A missing key is a bug: KeyError. The CLI's table and the app's (webapp/i18n.py) share it."""
    entry = strings[key]
    text = entry.get(lang) or entry[DEFAULT_LANG]
    return text.format(**fmt) if fmt else text


def t(key: str, lang: str = DEFAULT_LANG, **fmt) -> str:
    """The CLI's text for `key` in `lang`."""
    return lookup(STRINGS, key, lang, **fmt)


class PerLang(dict):
    """A value that reads differently in each language ({lang: text}), for `refusal`'s fields (os_reason)."""


def refusal(key: str, code: str | None = None, **fmt):
    """A UsageError that says `key` in every language (English as its str()), with `code` (an ERROR_CODES or
    field-log code) for a translated refusal to show. An "en" entry of "{detail}" keeps a message the English
    run printed before word for word. A PerLang field gives each language its own value."""
    from leafscout.errors import UsageError

    def text(lang):
        return t(key, lang, **{k: v.get(lang, v.get("en")) if isinstance(v, PerLang) else v for k, v in fmt.items()})
    return UsageError(text("en"), code=code, texts={lang: text(lang) for lang in LANGS})


# why the operating system refused a file or folder, for a person (errno -> words); English: the OS's own words
_OS_REASONS = {"ENOSPC": "ổ đĩa đã đầy", "EDQUOT": "đã hết hạn mức dung lượng", "EACCES": "không có quyền",
               "EPERM": "không có quyền", "EROFS": "ổ đĩa chỉ cho đọc, không ghi được", "ENOENT": "không có tệp hoặc "
               "thư mục này", "EISDIR": "đây là một thư mục", "ENOTDIR": "một phần của đường dẫn không phải thư mục",
               "EIO": "lỗi đọc ghi của ổ đĩa", "EFBIG": "tệp quá lớn", "ENAMETOOLONG": "tên quá dài",
               "EEXIST": "đã có tệp hoặc thư mục trùng tên"}


def os_reason(exc: OSError) -> PerLang:
    """An OSError's reason in each language: the OS's English words, and e.g. 'ổ đĩa đã đầy' for ENOSPC (an
    unlisted errno reads 'lỗi hệ thống EBUSY': its name, which support can search)."""
    import errno
    name = errno.errorcode.get(getattr(exc, "errno", None) or -1, "")
    english = getattr(exc, "strerror", None) or str(exc)
    return PerLang(en=english, vi=_OS_REASONS.get(name) or (f"lỗi hệ thống {name}" if name else "lỗi hệ thống"))


def has(key: str) -> bool:
    return key in STRINGS


def pct(p, lang: str = DEFAULT_LANG) -> str:
    """A probability as a whole percentage: 0.928934 -> '93%' ('' when unknown)."""
    if p is None:
        return ""
    try:
        v = float(p)
    except (TypeError, ValueError):
        return ""
    if v != v:
        return ""
    return f"{v:.0%}"


def number(x, lang: str = DEFAULT_LANG, digits: int = 2) -> str:
    """A plain number, at most `digits` decimals, with the language's decimal mark (vi: comma)."""
    text = f"{round(float(x), digits):g}"
    return text.replace(".", ",") if lang == "vi" else text


def crop_name(advisor, crop: str | None, lang: str) -> str:
    """The knowledge base's name of a crop ('Cà phê'); the id itself when the KB does not know it."""
    if advisor is None or not crop:
        return crop or ""
    c = advisor.kb.crops.get(crop) or {}
    return c.get(lang) or crop


def problem_name(advisor, label: str | None, lang: str) -> str:
    """Plain words for a model or detector label, with the crop: 'Bệnh mốc sương (Cà chua)'.

    A label the knowledge base has no entry for reads '<crop name> (another problem)' when its crop is known
    (`rice.other` -> 'Lúa (vấn đề khác)'), never the raw id; the label itself only when the crop is unknown too."""
    if not label:
        return "-"
    if advisor is not None:
        p = advisor.kb.problems.get(label)
        if isinstance(p, dict):
            name = p["names"].get(lang) or p["names"].get("en") or label
            crop = advisor.kb.crops.get(p.get("crop", ""), {})
            cname = crop.get(lang) or p.get("crop", "")
            if p.get("type") == "no_leaf" or not crop or name.casefold().startswith(cname.casefold() + ":"):
                return name  # "Lúa: không phải bệnh nào LeafScout biết" names its crop already
            return f"{name} ({cname})"
        crop_id, _, rest = str(label).partition(".")
        if crop_id in advisor.kb.crops:
            # `<crop>.other` reads "another problem"; a label trained in before its entry keeps its own words,
            # so two new labels of one crop never read alike ("Sầu riêng (leaf spot)")
            other = ({"vi": "vấn đề khác", "en": "another problem"}[norm_lang(lang)] if rest in ("", "other")
                     else rest.replace("_", " "))
            return f"{crop_name(advisor, crop_id, lang)} ({other})"
    return str(label)


def kb_names(advisor, lang: str) -> dict[str, str]:
    """Every knowledge-base problem id -> its name in `lang` with the crop, and every crop id -> its name: what
    the lot PDF shows instead of raw labels (fieldlog does not import the advisor, so the caller passes these)."""
    if advisor is None:
        return {}
    out = {cid: crop_name(advisor, cid, lang) for cid in advisor.kb.crops}
    out.update({pid: problem_name(advisor, pid, lang) for pid in advisor.kb.problems})
    return out
