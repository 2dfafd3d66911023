"""Engine text in the learner's language: data findings and figure words.

The engine (``metacore``) writes English: a finding carries a stable ``code`` and an English
sentence with the values filled in. ``finding_message`` reads those values back out of the
sentence with the pattern of its code and fills ``finding.<code>`` of the chosen language
with them; a code without a pattern, a sentence that no pattern matches, or a translation
that cannot be filled shows the engine's English sentence, so nothing is ever lost.
"""

from __future__ import annotations

import re
from typing import Any

from metacore.reporting import figures
from ui import i18n
from ui.i18n import DEFAULT, strings, t

_N = r"(?P<n>[\d,]+)"
_LIST = r"(?P<items>.+)"

# code -> [(translation key, English sentence pattern)]; the named groups are the placeholders.
# Several keys for one code when the engine words it in several ways.
PATTERNS: dict[str, list[tuple[str, str]]] = {
    "all_labels_missing": [("finding.all_labels_missing",
                            r"No row has a label in column '(?P<column>.*)'; fill in the labels "
                            r"or pick the right label column\.")],
    "missing_labels": [("finding.missing_labels",
                        _N + r" rows? ha(?:s|ve) no label and will not be used; fill in the "
                        r"missing labels if those rows matter\.")],
    "label_whitespace": [("finding.label_whitespace",
                          r"Spaces around labels were removed in " + _N + r" rows? \(for "
                          r"example (?P<before>.+) became (?P<after>.+)\); nothing needs to be "
                          r"done\.")],
    "empty_texts": [("finding.empty_texts",
                     _N + r" rows? ha(?:s|ve) an empty text and will not be used; add the "
                     r"texts if those rows matter\.")],
    "texts_truncated": [("finding.texts_truncated",
                         _N + r" texts? (?:is|are) longer than (?P<limit>[\d,]+) characters "
                         r"and only the first (?P=limit) are used; shorten them yourself if "
                         r"the end matters\.")],
    "formula_cells": [("finding.formula_cells",
                       _N + r" cells? starts? like a spreadsheet formula \(such as "
                       r"'=cmd\|\.\.\.'\); such cells are used as plain text here, but do not "
                       r"open exports of this data in Excel unless you trust the file\.")],
    "duplicate_rows": [("finding.duplicate_rows",
                        _N + r" rows? repeats? an earlier row exactly; copies are kept but can "
                        r"end up in both training and test data, so remove them if they are "
                        r"accidental\.")],
    "conflicting_labels": [("finding.conflicting_labels",
                            _N + r" rows? shares? a text with a different label \(for example "
                            r"(?P<text>.+) is labelled " + _LIST + r"\); fix the labels, "
                            r"because a model cannot learn both\.")],
    "float_labels": [("finding.float_labels",
                      r"The label column '(?P<column>.*)' looks like a number, not a class "
                      r"\((?P<count>[\d,]+) different values such as " + _LIST + r"\); pick a "
                      r"column that names categories\.")],
    "numeric_labels": [("finding.numeric_labels",
                        r"All labels are numbers; they are treated as class names, which is "
                        r"fine\.")],
    "label_case_variants": [
        ("finding.label_case_variants-more",
         r"(?P<groups>.+) \(and (?P<more>\d+) more groups\) look like the same class but "
         r"differ in capital letters or spaces; they are kept apart, so fix the file if they "
         r"should be one\."),
        ("finding.label_case_variants",
         r"(?P<groups>.+) look like the same class but differ in capital letters or spaces; "
         r"they are kept apart, so fix the file if they should be one\.")],
    "single_class": [("finding.single_class",
                      r"Every row has the same label \((?P<label>.+)\); a classifier needs at "
                      r"least two classes, so add examples of other classes or pick another "
                      r"label column\.")],
    "too_many_classes": [
        ("finding.too_many_classes",
         r"The file has " + _N + r" different labels, more than the limit of "
         r"(?P<limit>[\d,]+); check that '(?P<column>.*)' is the label column or merge rare "
         r"classes\."),
        ("finding.too_many_classes-data",
         r"The data has " + _N + r" different labels, more than the limit of "
         r"(?P<limit>[\d,]+); merge rare classes or pick another label column\.")],
    "tiny_class": [("finding.tiny_class",
                    _N + r" class(?:es)? ha(?:s|ve) only one example \(" + _LIST + r"\) and "
                    r"cannot appear in both training and test data; add more examples\.")],
    "unknown_split_values": [("finding.unknown_split_values",
                              r"The split column has values " + _LIST + r" that are not train, "
                              r"validation or test; rename them, or turn off the split column "
                              r"so the rows are split automatically\.")],
    "no_rows": [("finding.no_rows",
                 r"No row has both a text in column '(?P<column>.*)' and a label; check that "
                 r"the right columns were chosen\.")],
    "too_few_for_k": [
        ("finding.too_few_for_k",
         _N + r" class(?:es)? ha(?:s|ve) fewer than (?P<need>\d+) examples, which K=(?P<k>\d+) "
         r"needs \((?P=k) to learn from and 1 to test on\): " + _LIST + r"; they will use "
         r"what they have, so choose a smaller K or add examples for a fair comparison\."),
        ("finding.too_few_for_k-train",
         _N + r" class(?:es)? ha(?:s|ve) fewer than K=(?P<k>\d+) training examples: " + _LIST
         + r"; they will use what they have, so choose a smaller K or add examples for a fair "
         r"comparison\.")],
    "too_many_rows": [
        ("finding.too_many_rows",
         r"The file has more than (?P<limit>[\d,]+) rows, the most that can be used; upload a "
         r"smaller sample of it\."),
        ("finding.too_many_rows-data",
         r"The data has " + _N + r" rows, more than the limit of (?P<limit>[\d,]+); use a "
         r"smaller sample of the file\.")],
    "test_in_train": [("finding.test_in_train",
                       _N + r" test texts? also appears? in the training data, which makes "
                       r"results look better than they are; remove the copies from one of the "
                       r"two\.")],
    "val_in_train": [("finding.val_in_train",
                      _N + r" validation texts? also appears? in the training data, which makes "
                      r"results look better than they are; remove the copies from one of the "
                      r"two\.")],
    "test_unseen_classes": [("finding.test_unseen_classes",
                             r"The test data has " + _N + r" rows? with classes that never "
                             r"appear in training \(" + _LIST + r"\); they will always count "
                             r"as wrong, so add training examples for them or remove them from "
                             r"the test data\.")],
    "train_classes_missing_from_test": [("finding.train_classes_missing_from_test",
                                         r"The test data has no examples of " + _N + r" "
                                         r"training class(?:es)? \(" + _LIST + r"\), so their "
                                         r"accuracy cannot be measured; add test rows if it "
                                         r"matters\.")],
    "file_too_large": [("finding.file_too_large",
                        r"The file is (?P<size>.+), more than the limit of (?P<limit>.+); "
                        r"upload a smaller sample of it\.")],
    "encoding_detected": [
        ("finding.encoding_detected-utf16",
         r"Read as UTF-16 because the file starts with a UTF-16 marker; if some characters "
         r"look wrong, save the file as UTF-8\."),
        ("finding.encoding_detected",
         r"Read as (?P<encoding>.+) because the file is not UTF-8; if some characters look "
         r"wrong, save the file as UTF-8\.")],
    "undecodable_bytes": [("finding.undecodable_bytes",
                           _N + r" characters? (?:is|are) not valid UTF-8 and will show as "
                           "'\ufffd'; save the file as UTF-8 to keep them\\.")],
    "mixed_newlines": [("finding.mixed_newlines",
                        r"The file mixes line-ending styles \(Windows, Unix and old Mac\); all "
                        r"of them were read as line breaks, so nothing needs to be done\.")],
    "delimiter_detected": [("finding.delimiter_detected",
                            r"The file is named (?P<ext>\S+) but its columns are separated by "
                            r"(?P<separator>.+), so it was read that way\.")],
    "skipped_lines": [
        ("finding.skipped_lines",
         _N + r" lines? ha(?:s|ve) more cells than the header and will not be used; check them "
         r"for a separator character inside an unquoted text\."),
        ("finding.skipped_lines-tab",
         _N + r" lines? ha(?:s|ve) no tab between the text and the label and will not be "
         r"used; fix those lines to use them\.")],
    "unbalanced_quotes": [("finding.unbalanced_quotes",
                           _N + r" lines? ha(?:s|ve) quotation marks that do not pair up and "
                           r"will not be used; fix those lines to use them\.")],
    "header_only": [("finding.header_only",
                     r"The file has column names but no data rows; add your labelled texts "
                     r"below them\.")],
    "bad_json": [("finding.bad_json",
                  r"No line of the file is a valid JSON object; each line should look like "
                  r'\{"text": "\.\.\.", "label": "\.\.\."\}\.')],
    "broken_json_lines": [("finding.broken_json_lines",
                           _N + r" lines? (?:is|are) not a valid JSON object and will not be "
                           r"used; fix those lines to use them\.")],
    "other_sheets_ignored": [("finding.other_sheets_ignored",
                              r"Only the first sheet \('(?P<sheet>.*)'\) was read; move your "
                              r"data there if it is on another sheet\.")],
    "bad_excel": [
        ("finding.bad_excel",
         r"This file could not be opened as an Excel workbook; open it in Excel and save it "
         r"again as \.xlsx or CSV\."),
        ("finding.bad_excel-sheet",
         r"The Excel sheet could not be read; open it in Excel and save it again as \.xlsx\."),
        ("finding.bad_excel-named",
         r"The file is named (?P<ext>\S+) but is not an Excel workbook; save it again from "
         r"Excel as \.xlsx\.")],
    "old_excel": [("finding.old_excel",
                   r"Old Excel \.xls files are not supported; open the file in Excel and save "
                   r"it as \.xlsx or CSV\.")],
    "not_text": [("finding.not_text",
                  r"This file is not text \(it looks like an image, archive or program\); save "
                  r"your data as CSV, TSV, JSONL or Excel \.xlsx and upload that\.")],
    "file_empty": [("finding.file_empty",
                    r"The file is empty; choose a file that contains your labelled texts\.")],
    "column_not_found": [("finding.column_not_found",
                          r"There is no column '(?P<column>.*)' for the (?P<role>texts|labels); "
                          r"the file has the columns (?P<columns>.+), so choose one of them\.")],
    "no_text_column": [("finding.no_text_column",
                        r"No column looks like it holds the texts \(the columns are "
                        r"(?P<columns>.*)\); name it 'text' or choose it yourself\.")],
    "no_label_column": [("finding.no_label_column",
                         r"No column looks like it holds the labels \(the columns are "
                         r"(?P<columns>.*)\); name it 'label' or choose it yourself\.")],
    "same_column": [("finding.same_column",
                     r"The same column '(?P<column>.*)' was chosen for the texts and the labels; "
                     r"choose two different columns\.")],
    "columns_guessed": [("finding.columns_guessed",
                         r"Guessed that '(?P<text>.*)' holds the texts and '(?P<label>.*)' the "
                         r"labels; choose the columns yourself if that is wrong\.")],
    "episode_shape": [("finding.episode_shape",
                       r"Episodes need at least 2 ways, 1 shot and 1 query per class, not "
                       r"(?P<n_way>-?\d+)-way (?P<k_shot>-?\d+)-shot (?P<n_query>-?\d+)-query\.")],
    "episode_class_too_small": [("finding.episode_class_too_small",
                                 r"In (?P<part>.+?), " + _N + r" class\(es\) \(" + _LIST
                                 + r"\) have fewer than (?P<need>\d+) examples, which "
                                 r"(?P<k_shot>\d+) shots plus (?P<n_query>\d+) queries need; "
                                 r"lower --shots or --queries\.")],
    "episode_too_few_classes": [("finding.episode_too_few_classes",
                                 r"(?P<part_start>.+?) has " + _N + r" class\(es\) with enough "
                                 r"examples but (?P<n_way>\d+)-way episodes need (?P=n_way); "
                                 r"lower --ways or move classes into (?P<part>.+)\.")],
}
_COMPILED = {code: [(key, re.compile(pattern, re.DOTALL)) for key, pattern in variants]
             for code, variants in PATTERNS.items()}

# Whole values the engine writes in English, by placeholder, in the other languages.
_VALUES: dict[str, dict[str, dict[str, str]]] = {
    "zh": {
        "role": {"texts": "文本", "labels": "标签"},
        "separator": {"commas": "逗号", "tabs": "制表符", "semicolons": "分号",
                      "vertical bars": "竖线"},
        "encoding": {"GB18030 (Chinese)": "GB18030（中文）",
                     "Windows-1252 (Western European)": "Windows-1252（西欧）",
                     "Latin-1 (Western European)": "Latin-1（西欧）"},
        "part": {"the data": "数据", "the novel classes": "新类别",
                 "the novel part": "新类别部分", "the meta-training part": "元训练部分"},
    },
}
_QUOTED_JOIN = re.compile(r"(?<=['\"])(?:, | and )(?=['\"])")
_MORE = re.compile(r" and ([\d,]+) more$")


def _zh_list(text: str) -> str:
    """"'a', 'b' and 3 more" -> "'a'、'b' 等另外 3 个"; quoted items stay as they are."""
    text = _MORE.sub(r" 等另外 \1 个", text)
    text = _QUOTED_JOIN.sub("、", text)
    return text.replace("'(empty)'", "（空）")


def _localise(values: dict[str, Any], lang: str) -> dict[str, Any]:
    out = {k: v for k, v in values.items() if v is not None}
    if lang == "zh":
        for name in ("items", "groups"):
            if name in out:
                out[name] = _zh_list(out[name]).replace("; ", "；")
    for name, table in _VALUES.get(lang, {}).items():
        if name in out:
            out[name] = table.get(out[name], out[name])
    return out


def finding_message(finding: Any, lang: str | None = None) -> str:
    """The finding's sentence in ``lang`` (default: the learner's), else the engine's English.

    ``finding`` is a ``metacore.data.Finding`` (anything with ``code`` and ``message``).
    """
    lang = lang or i18n.language()  # looked up at call time (tests switch it)
    message = str(finding.message)
    if lang == DEFAULT:
        return message
    table = strings(lang)
    for key, pattern in _COMPILED.get(finding.code, []):
        match = pattern.fullmatch(message)
        if match is None:
            continue
        if key not in table:
            return message
        try:
            return table[key].format(**_localise(match.groupdict(), lang))
        except (KeyError, IndexError, ValueError):  # a placeholder the sentence lacks
            return message
    return message  # worded differently (a newer engine, or a note added): keep it whole


def finding_rows(finding: Any) -> str:
    """"Rows 3, 5, 9" (and how many more) for a finding that names file rows, else ""."""
    rows = list(getattr(finding, "rows", ()) or ())
    if not rows:
        return ""
    shown = ", ".join(str(r) for r in rows)
    more = max(0, int(getattr(finding, "count", 0) or 0) - len(rows))
    if more:
        return t("data.finding_rows_more", rows=shown, more=f"{more:,}")
    return t("data.finding_rows", rows=shown)


def figure_labels(lang: str | None = None) -> dict[str, str]:
    """Every figure word (``figures.LABELS``) in ``lang``, for the figures' ``labels=``."""
    return {key: t(f"figure.{key}", lang=lang) for key in figures.LABELS}
