"""Pairing old and new measures by content (pure: no database)."""

from tasks.services.imports.match import Item, align, content_fingerprint, measure_key, normalise_text

OLD = [
    Item("1", "建立健全重大投融资活动知识产权评议工作机制。"),
    Item("2", "开展知识产权宣传周活动,普及知识产权知识。"),
    Item("3", "建立专利快速预审机制,提升审查效率。"),
    Item("4", "推动知识产权质押融资扩面增量。"),
    Item("5", "加强知识产权司法保护,完善诉调对接机制。"),
    Item("6", "培育知识产权优势企业和示范企业。"),
]


def pairs(old, new) -> dict[str, str]:
    """old number → new number of each pair."""
    return {old[p.old].number: new[p.new].number for p in align(old, new)}


def renumber(items) -> list[Item]:
    return [Item(str(n), item.text) for n, item in enumerate(items, start=1)]


def test_normalising_ignores_numbers_punctuation_width_and_spaces():
    assert normalise_text("（三）加强 知识产权保护，完善机制。") == normalise_text(
        "加强知识产权保护,完善机制"
    )
    assert normalise_text("12.365服务热线建设。") == "365服务热线建设"
    assert normalise_text("365服务热线建设。") == "365服务热线建设", "digits of the text itself stay"
    assert measure_key("（一）" + OLD[0].text) == "建立健全重大投融资活动知识产权评议工作机"


def test_fingerprint_is_the_same_across_widths_and_spaces():
    half = content_fingerprint([("1", "加强保护,完善机制。", "(区金融局负责;2021年底前)", "2021年底前")])
    full = content_fingerprint([("1", "加强保护，完善机制。 ", "（区金融局负责；2021年底前）", "2021年底前")])
    renumbered = content_fingerprint(
        [("2", "加强保护,完善机制。", "(区金融局负责;2021年底前)", "2021年底前")]
    )
    assert half == full and half != renumbered


def test_renumbering_after_a_deletion_pairs_by_text():
    new = renumber(OLD[:2] + OLD[3:])
    assert pairs(OLD, new) == {"1": "1", "2": "2", "4": "3", "5": "4", "6": "5"}


def test_a_reordered_section_pairs_by_text():
    new = renumber([OLD[4], OLD[5], OLD[0], OLD[1], OLD[2], OLD[3]])
    assert pairs(OLD, new) == {"5": "1", "6": "2", "1": "3", "2": "4", "3": "5", "4": "6"}


def test_one_item_split_in_two_keeps_the_closer_half():
    first = Item("3", "建立专利快速预审机制。")
    second = Item("4", "提升专利审查效率,缩短审查周期。")
    new = [*OLD[:2], first, second] + [Item(str(n), item.text) for n, item in enumerate(OLD[3:], start=5)]
    result = {OLD[p.old].number: (new[p.new].number, p.score) for p in align(OLD, new)}
    assert result["3"][0] == "3" and 0.6 <= result["3"][1] < 0.9, "the half that keeps most of the text"
    assert {old: number for old, (number, _score) in result.items()} == {
        "1": "1",
        "2": "2",
        "3": "3",
        "4": "5",
        "5": "6",
        "6": "7",
    }, "the other half (new 4) is added"


def test_two_items_merged_pair_with_the_larger_one():
    merged = Item("4", "推动知识产权质押融资扩面增量,加强知识产权司法保护。")
    new = [*OLD[:3], merged, Item("5", OLD[5].text)]
    result = pairs(OLD, new)
    assert result["4"] == "4" and "5" not in result, "the other half is removed, never silently re-used"
    assert result["6"] == "5"


def test_the_number_breaks_ties_between_identical_texts():
    old = [Item("1", "加强宣传。"), Item("2", "加强宣传。"), Item("3", "开展培训。")]
    new = [Item("1", "开展培训。"), Item("2", "加强宣传。"), Item("3", "加强宣传。")]
    assert pairs(old, new) == {"3": "1", "2": "2", "1": "3"}


def test_unrelated_texts_do_not_pair():
    assert pairs(OLD, [Item("1", "完全不同的一项工作安排。")]) == {}
