"""Label Studio both ways: import tasks with the model's guess pre-selected, and an export's annotations as
(text, label) rows."""

from __future__ import annotations

import json
import re

import pytest

from review_cls.errors import DataError
from review_cls.labeling.label_studio import annotated_reviews, import_tasks, labeling_config, write_tasks


def annotation(*labels: str, cancelled: bool = False) -> dict:
    return {"was_cancelled": cancelled, "result": [
        {"from_name": "label", "to_name": "text", "type": "choices", "value": {"choices": list(labels)}}]}


def table(path):
    """The (text, label) rows of an export."""
    return annotated_reviews(path)[0]


def test_each_task_holds_the_text_and_pre_selects_the_models_label_with_its_confidence(tmp_path):
    tasks = import_tasks(["slow app", "late parcel"], [["bug"], ["delivery"]], [0.9, 0.55], "run-1")
    assert [task["data"]["text"] for task in tasks] == ["slow app", "late parcel"]
    prediction = tasks[1]["predictions"][0]
    assert prediction["model_version"] == "run-1"
    assert prediction["score"] == 0.55
    assert prediction["result"][0]["value"]["choices"] == ["delivery"]
    assert (prediction["result"][0]["from_name"], prediction["result"][0]["to_name"]) == ("label", "text")
    path = tmp_path / "tasks.json"
    write_tasks(tasks, path)
    assert json.loads(path.read_text(encoding="utf-8")) == tasks


def test_an_export_gives_the_latest_not_cancelled_choice_and_leaves_unlabeled_tasks_out(tmp_path, caplog):
    tasks = import_tasks(["slow app", "late parcel", "café prices", "no one looked"], [["bug"]] * 4, [0.5] * 4, "v")
    tasks[0]["annotations"] = [annotation("bug")]
    tasks[1]["annotations"] = [annotation("bug"), annotation("delivery")]
    tasks[2]["annotations"] = [annotation("price"), annotation("bug", cancelled=True)]
    tasks[3]["annotations"] = [annotation("bug", cancelled=True)]
    path = tmp_path / "export.json"
    write_tasks(tasks, path)
    frame = table(path)
    assert frame.to_dict("records") == [{"text": "slow app", "label": "bug"},
                                        {"text": "late parcel", "label": "delivery"},
                                        {"text": "café prices", "label": "price"}]
    assert "1 of 4 task(s)" in caplog.text


def test_a_prediction_alone_is_not_an_annotation(tmp_path):
    path = tmp_path / "export.json"
    write_tasks(import_tasks(["slow app"], [["bug"]], [0.9], "v"), path)
    assert table(path).empty


def test_a_task_without_a_text_is_refused_naming_its_number(tmp_path):
    path = tmp_path / "export.json"
    path.write_text(json.dumps([{"data": {"text": "ok"}}, {"data": {"review": "other field"}}]))
    with pytest.raises(DataError, match=r"Task 2 in .* has no data.text"):
        table(path)


def test_a_missing_file_a_non_json_export_or_one_that_is_not_a_task_list_is_refused(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        table(tmp_path / "missing.json")
    csv_export = tmp_path / "export.csv"
    csv_export.write_text("text,label\nslow app,bug\n")
    with pytest.raises(DataError, match=r"Cannot read .* as a Label Studio JSON export.*not JSON-MIN or CSV"):
        table(csv_export)
    one_task = tmp_path / "one.json"
    one_task.write_text(json.dumps({"data": {"text": "slow app"}}))
    with pytest.raises(DataError, match="not a Label Studio JSON export"):
        table(one_task)


def test_other_controls_are_skipped_and_a_task_without_a_text_is_named(tmp_path):
    path = tmp_path / "export.json"
    comment = {"from_name": "comment", "to_name": "text", "type": "textarea", "value": {"text": ["too vague"]}}
    path.write_text(json.dumps([{"data": {"text": "the app crashes"}, "annotations": [{"result": [comment]}]}]))
    assert table(path).empty
    path.write_text(json.dumps([{"data": ["the app crashes"]}]))
    with pytest.raises(DataError, match="Task 1 in .* has no data.text"):
        table(path)


@pytest.mark.parametrize("annotations, fragment", [
    ([{"result": 5}], "an annotation's result is 5, not a list"),
    ({"result": []}, "its annotations are {'result': []}, not a list"),
    ([{"result": ["not a dict"]}], "result holds 'not a dict', not an object"),
    ([{"result": [{"from_name": "label", "value": "bug"}]}], "its 'label' result has no list of choices ('bug')"),
    ([annotation("")], "chooses '', not a label name"),
    ([{"result": [{"from_name": "label", "value": {"choices": [{"text": "bug"}]}}]}],
     "chooses {'text': 'bug'}, not a label name"),
])
def test_a_malformed_annotation_is_refused_naming_the_task(tmp_path, annotations, fragment):
    path = tmp_path / "export.json"
    path.write_text(json.dumps([{"data": {"text": "ok"}, "annotations": [annotation("bug")]},
                                {"data": {"text": "the app crashes"}, "annotations": annotations}]))
    with pytest.raises(DataError, match=rf"Task 2 in .*export.json' is not a Label Studio annotation .*{re.escape(fragment)}"):
        table(path)


def test_two_labels_in_one_annotation_are_refused_in_a_single_label_project(tmp_path):
    path = tmp_path / "export.json"
    tasks = import_tasks(["crashes, and too expensive"], [["bug"]], [0.9], "v")
    tasks[0]["annotations"] = [annotation("bug", "price")]
    write_tasks(tasks, path)
    with pytest.raises(DataError, match=r"Task 1 .* chose 2 labels in one annotation \('bug', 'price'\), but its tasks "
                                        "were written for a single-label model"):
        table(path)


def test_a_multi_label_project_pre_selects_every_label_and_reads_every_choice_back(tmp_path, caplog):
    tasks = import_tasks(["crashes, and too expensive", "fine", "slow", "skipped"],
                         [["bug", "price"], [], ["bug"], ["bug"]], [0.2, 0.9, 0.4, 0.1], "v", multilabel=True)
    assert tasks[0]["predictions"][0]["result"][0]["value"]["choices"] == ["bug", "price"]
    assert tasks[1]["predictions"][0]["result"] == []  # no label applies: nothing pre-selected
    tasks[0]["annotations"] = [annotation("bug", "price")]
    tasks[1]["annotations"] = [{"was_cancelled": False, "result": []}]  # submitted with no label: none applies
    tasks[2]["annotations"] = [annotation("bug", "delivery"), annotation("price", cancelled=True)]
    path = tmp_path / "export.json"
    write_tasks(tasks, path)
    reviews, multilabel = annotated_reviews(path)
    assert multilabel
    assert reviews.to_dict("records") == [{"text": "crashes, and too expensive", "label": "bug|price"},
                                          {"text": "fine", "label": ""}, {"text": "slow", "label": "bug|delivery"}]
    assert "1 of 4 task(s)" in caplog.text and "'delivery' (1 task(s)" in caplog.text


def test_a_multi_label_choice_holding_the_separator_is_refused(tmp_path):
    tasks = import_tasks(["slow"], [["bug"]], [0.4], "v", multilabel=True)
    tasks[0]["annotations"] = [annotation("bug|ui")]
    path = tmp_path / "export.json"
    write_tasks(tasks, path)
    with pytest.raises(DataError, match=r"Task 1 .* its label 'bug\|ui' holds '\|'"):
        table(path)


def test_the_labeling_config_allows_several_choices_for_a_multi_label_model():
    assert 'choice="single"><Choice value="bug"/><Choice value="a&amp;b"/>' in labeling_config(["bug", "a&b"], False)
    assert 'choice="multiple">' in labeling_config(["bug"], True)


def test_labels_the_model_pre_selected_nowhere_are_warned_with_a_close_match(tmp_path, caplog):
    tasks = import_tasks(["slow app", "late parcel"], [["bug"], ["delivery"]], [0.9, 0.8], "v")
    tasks[0]["annotations"] = [annotation("bgu")]
    tasks[1]["annotations"] = [annotation("delivery")]
    path = tmp_path / "export.json"
    write_tasks(tasks, path)
    assert table(path)["label"].tolist() == ["bgu", "delivery"]
    assert "Label(s) 'bgu' (1 task(s), did you mean 'bug'?)" in caplog.text


def test_an_export_saved_with_a_byte_order_mark_is_read(tmp_path):
    tasks = import_tasks(["slow app"], [["bug"]], [0.9], "v")
    tasks[0]["annotations"] = [annotation("bug")]
    path = tmp_path / "export.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(tasks).encode("utf-8"))
    assert table(path).to_dict("records") == [{"text": "slow app", "label": "bug"}]
