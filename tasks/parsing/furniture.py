"""Page furniture: lines of a saved web page or of a 公文's frame that are not plan content.

Navigation and footers of government sites, metadata tables (索引号, 发文字号 …, still read by metadata.py),
the signature block and date, "(此件公开发布)". None of them is ever a measure or a measure's text.
"""

from __future__ import annotations

import re

# Once one of these appears after the plan's first numbered heading, the rest of the page is footer.
_FOOTER_START = re.compile(
    r"^(?:扫一扫|用手机扫|打印本页|【打印|【关闭|\[打印|\[关闭|关闭窗口|分享到|相关链接|相关文章|相关新闻|相关文件|"
    r"相关稿件|部门解读|政策解读[:：]?$|相关解读|媒体视角|图片解读|一图读懂|上一篇|下一篇|网站地图|联系我们|"
    r"返回顶部|主办[:：]|主办单位|承办[:：]|协办[:：]|版权所有|网站标识码|网站识别码|技术支持|网站声明|"
    r"Copyright|©|[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼]ICP备|"
    r"国务院部门网站|地方政府网站|新媒体矩阵|关注公众号|政务新媒体|移动门户|政务邮箱|咨询电话|责任编辑|"
    r"【我要纠错】|我要纠错|附件下载[:：]?$)",
    re.IGNORECASE,
)
_NOISE = re.compile(
    r"^[•·\s\[]*(?:首页\s*[>›»]|当前位置|您现在的位置|您的位置|来源[:：]|发布时间|发布日期[:：]|作者[:：]|浏览次数|"
    r"阅读次数|访问量|点击数|字号[:：]|字体[:：]|【字体|字体大小|\[\s*字体|\[\s*字号|【\s*字号|打印\s*$|关闭\s*$|"
    r"分享\s*$|收藏\s*$|www\.|https?://|[•·\s]*(?:\[\s*)?索\s*引\s*号|发\s*文\s*字\s*号|主\s*题\s*分\s*类|发\s*布\s*机\s*构|"
    r"成\s*文\s*日\s*期|发\s*布\s*日\s*期|有\s*效\s*性|体\s*裁\s*分\s*类|名\s*称\s*[:：]|联合发文单位|"
    r"修改和废止依据|\[\s*索引号|信息索引号|公开方式|公开范围|主\s*题\s*词|文\s*号[:：]|生成日期|所属机构|"
    r"\(此件|（此件|\(征求意见稿\)|\(送审稿\)|\(公开发布\)|\(此页无正文\)|抄送[:：]|印发[:：]?\s*$)"
)
_DATE_ONLY = re.compile(r"^(?:(?:19|20)[\d?？]{2}[年.\-/?？]*[\d?？]{0,2}[月.\-/?？]*[\d?？]{0,2}[日号]?)$")
_SIGNATURE = re.compile(r"^[\u4e00-\u9fff()（）]{2,30}$")


def is_noise(line: str) -> bool:
    """A furniture line by itself (navigation, metadata, publication notes, a date alone)."""
    s = line.strip()
    if not s:
        return False
    if _NOISE.match(s) or _FOOTER_START.match(s):
        return True
    compact = s.replace(" ", "")
    return bool(_DATE_ONLY.match(compact)) and len(compact) >= 6


def is_footer_start(line: str) -> bool:
    return bool(_FOOTER_START.match(line.strip()))


def is_date_line(line: str) -> bool:
    compact = line.replace(" ", "")
    return len(compact) >= 6 and bool(_DATE_ONLY.match(compact))


def signature_lines(lines: list[str]) -> set[int]:
    """Indexes of issuer lines that sign a document: a bare organ name right before a date line."""
    found: set[int] = set()
    previous: int | None = None
    for i, line in enumerate(lines):
        if not line:
            continue
        if previous is not None and is_date_line(line):
            name = lines[previous].replace(" ", "")
            if _SIGNATURE.match(name) and not name.endswith(("规划", "方案", "计划", "措施", "意见", "通知")):
                found.add(previous)
        previous = i
    return found
