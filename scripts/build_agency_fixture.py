"""Regenerate fixtures/agencies.json from the table below: `python scripts/build_agency_fixture.py`.

The table lists the agencies of the five seed jurisdictions as their plans spell them, with the other
spellings seen in documents. Kind is guessed from the name's ending unless given.
"""

import json
from pathlib import Path

# jurisdiction -> [(name, [aliases], kind or None, [group members])]
TABLE: dict[str, list[tuple[str, list[str], str | None, list[str]]]] = {
    "天津市": [
        ("市知识产权局", ["天津市知识产权局"], None, []),
        ("市市场监管委", ["天津市市场监管委", "天津市市场监督管理委员会", "市市场监督管理委员会"], None, []),
        ("市高级法院", ["天津市高级人民法院", "市高院"], "judicial", []),
        ("市检察院", ["天津市人民检察院", "市人民检察院"], "judicial", []),
        ("市公安局", ["天津市公安局"], None, []),
        ("市司法局", ["天津市司法局"], None, []),
        ("市委宣传部", ["天津市委宣传部"], "party", []),
        ("市委网信办", ["天津市委网信办"], "party", []),
        ("市科技局", ["天津市科技局", "市科学技术局"], None, []),
        ("市工业和信息化局", ["市工信局", "天津市工业和信息化局"], None, []),
        ("市教委", ["天津市教委", "市教育委员会"], None, []),
        ("市财政局", ["天津市财政局"], None, []),
        ("市金融局", ["天津市金融局", "市地方金融监管局"], None, []),
        ("市人力社保局", ["天津市人力社保局", "市人社局"], None, []),
        ("市农业农村委", ["天津市农业农村委"], None, []),
        ("市国资委", ["天津市国资委"], None, []),
        ("市政务服务办", ["天津市政务服务办"], None, []),
        ("市文化和旅游局", ["天津市文化和旅游局", "市文旅局"], None, []),
        ("市统计局", ["天津市统计局"], None, []),
        ("市科协", ["天津市科协"], "institution", []),
        ("市商务局", ["天津市商务局"], None, []),
        ("市发展改革委", ["市发改委", "天津市发展改革委"], None, []),
        ("天津海关", [], None, []),
        ("天津仲裁委", ["天津仲裁委员会"], "institution", []),
        ("天津贸促会", ["市贸促会"], "institution", []),
        ("天津银保监局", [], None, []),
        ("人民银行天津分行", ["人民银行天津分行营业管理部"], None, []),
        ("滨海新区人民政府", ["滨海新区政府"], "government", []),
    ],
    "亳州市": [
        (
            "市市场监管局(市知识产权局)",
            ["市市场监管局(知识产权局)", "市市场监管局", "市知识产权局", "亳州市市场监督管理局"],
            None,
            [],
        ),
        ("市中院", ["亳州市中级人民法院", "市中级人民法院"], "judicial", []),
        ("市检察院", ["亳州市人民检察院"], "judicial", []),
        ("市公安局", [], None, []),
        ("市司法局", [], None, []),
        ("市发改委", ["市发展改革委"], None, []),
        ("市科技局", [], None, []),
        ("市经信局", [], None, []),
        ("市财政局", [], None, []),
        ("市人社局", [], None, []),
        ("市自然资源和规划局(市林业局)", ["市自然资源和规划局"], None, []),
        ("市农业农村局", [], None, []),
        ("市商务局", [], None, []),
        ("市文化旅游体育局", [], None, []),
        ("市地方金融监管局", [], None, []),
        ("市数据资源局", [], None, []),
        ("市外办", [], None, []),
        ("市政府办公室", ["市政府办"], None, []),
        ("市委组织部", [], "party", []),
        ("市委编办", [], "party", []),
        ("市委督查办", [], "party", []),
        ("市委党校", [], "party", []),
        ("市人大常委会法工委", [], "party", []),
        ("市工商联", [], "institution", []),
        ("市贸促会", [], "institution", []),
        ("亳州仲裁委", [], "institution", []),
        ("亳州海关", [], None, []),
        ("亳州银保监分局", [], None, []),
        ("人行亳州市中支", ["人民银行亳州市中心支行"], None, []),
        ("亳州高新区管委会", [], "institution", []),
        ("亳芜现代产业园区管委会", [], "institution", []),
        ("谯城区政府", ["谯城区人民政府"], "government", []),
        ("涡阳县政府", ["涡阳县人民政府"], "government", []),
        ("蒙城县政府", ["蒙城县人民政府"], "government", []),
        ("利辛县政府", ["利辛县人民政府"], "government", []),
        (
            "各县、区政府",
            ["各县区政府", "各县(区)政府"],
            "group",
            ["谯城区政府", "涡阳县政府", "蒙城县政府", "利辛县政府"],
        ),
        ("市知识产权工作联席会议各成员单位", ["市知识产权工作联席会议成员单位"], "group", []),
    ],
    "东丽区": [
        ("区市场监管局", ["东丽区市场监管局", "东丽区市场监督管理局", "区知识产权局"], None, []),
        ("区金融局", ["东丽区金融局"], None, []),
        ("区发改委", ["东丽区发改委", "区发展改革委"], None, []),
        ("区合作交流办", [], None, []),
        ("区科技局", ["东丽区科技局"], None, []),
        ("区法院", ["东丽区人民法院"], "judicial", []),
        ("区检察院", ["东丽区人民检察院"], "judicial", []),
        ("公安东丽分局", ["东丽公安分局", "区公安分局"], None, []),
        ("区司法局", [], None, []),
        ("区委宣传部", [], "party", []),
        ("区委组织部", [], "party", []),
        ("区委网信办", [], "party", []),
        ("区工信局", ["区工业和信息化局"], None, []),
        ("区财政局", [], None, []),
        ("区人社局", ["区人力社保局"], None, []),
        ("区农业农村委", [], None, []),
        ("区商务局", [], None, []),
        ("区教育局", [], None, []),
        ("区文化旅游体育局", [], None, []),
        ("区融媒体中心", [], "institution", []),
        ("华明高新区服务中心", [], "institution", []),
        ("各街道办", ["各街道", "各街道办事处"], "group", []),
        ("各成员单位", ["知识产权战略领导小组各成员单位"], "group", []),
    ],
    "江津区": [
        ("区市场监管局", ["江津区市场监管局", "江津区市场监督管理局", "区知识产权局"], None, []),
        ("区科技局", [], None, []),
        ("区经济信息委", [], None, []),
        ("区金融发展服务中心", [], "institution", []),
        ("区农业农村委", [], None, []),
        ("区商务委", [], None, []),
        ("区林业局", [], None, []),
        ("区公安局", ["江津区公安局"], None, []),
        ("区司法局", [], None, []),
        ("区检察院", ["江津区人民检察院"], "judicial", []),
        ("区委宣传部", [], "party", []),
        ("区委组织部", [], "party", []),
        ("区政务服务办", [], None, []),
        ("区文化旅游委", [], None, []),
        ("国家金融监督管理总局江津监管分局", ["江津金融监管分局"], None, []),
        (
            "科学城江津管委会(双福工业园发展中心)",
            ["科学城江津管委会", "双福工业园发展中心"],
            "institution",
            [],
        ),
        ("江津区知识产权保护联席会议制度成员单位", ["区知识产权保护联席会议成员单位"], "group", []),
    ],
}


def guess_kind(name: str) -> str:
    if name.endswith(("法院", "检察院", "中院", "高院")):
        return "judicial"
    if name.startswith(("市委", "区委")):
        return "party"
    if name.endswith(("政府", "街道办")):
        return "government"
    if name.endswith(("中心", "管委会", "协会", "仲裁委")):
        return "institution"
    return "department"


def build() -> list[dict]:
    objects: list[dict] = []
    for jurisdiction, rows in TABLE.items():
        for name, aliases, kind, members in rows:
            objects.append(
                {
                    "model": "agencies.agency",
                    "fields": {
                        "name": name,
                        "jurisdiction": jurisdiction,
                        "kind": kind or guess_kind(name),
                        "is_group": kind == "group",
                        "is_confirmed": True,
                        "members": [[jurisdiction, member] for member in members],
                        "created_at": "2026-01-01T00:00:00Z",
                        "updated_at": "2026-01-01T00:00:00Z",
                    },
                }
            )
            for alias in aliases:
                objects.append(
                    {
                        "model": "agencies.agencyalias",
                        "fields": {"agency": [jurisdiction, name], "name": alias},
                    }
                )
    # Members must exist before the group that lists them.
    return sorted(objects, key=lambda o: (o["model"] != "agencies.agency", bool(o["fields"].get("members"))))


if __name__ == "__main__":
    out = Path(__file__).resolve().parent.parent / "fixtures" / "agencies.json"
    out.write_text(json.dumps(build(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out}")
