"""python -m tasks.parsing FILE [--json] [--optional]

Prints the parse of a plan document: the JSON contract with --json, a readable summary otherwise.
Exit status 0 on success; 2 with a one-line reason on stderr when the file cannot be read or holds no measure.
"""

from __future__ import annotations

import argparse
import json
import sys

from . import ParseError, parse_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks.parsing", description="Parse a plan document.")
    parser.add_argument("path", help=".txt, .html or .docx file")
    parser.add_argument("--json", action="store_true", help="print the JSON contract")
    parser.add_argument("--optional", action="store_true", help="include optional measures (专栏, 保障措施)")
    args = parser.parse_args(argv)
    try:
        plan = parse_file(args.path)
    except ParseError as exc:
        print(str(exc).splitlines()[0] if str(exc) else "无法读取文件", file=sys.stderr)
        return 2
    if args.json:
        out = json.dumps(plan.to_contract(include_optional=args.optional), ensure_ascii=False, indent=1)
        sys.stdout.buffer.write(out.encode("utf-8") + b"\n")
        return 0
    lines = [
        f"{plan.title}  文号 {plan.doc_number or '-'}  发文 {plan.issuer or '-'}  "
        f"地区 {plan.jurisdiction or '-'}  期限 {plan.period or '-'}  编码 {plan.encoding}"
    ]
    for m in plan.measures:
        if m.optional and not args.optional:
            continue
        who = "、".join(f"{a.agency}[{a.role[0]}]" for a in m.assignments) or "-"
        due = m.deadline.text if m.deadline else "-"
        lines.append(f"{m.number:>10} L{m.line:<4} {m.text[:30]} | {who} | {due}")
    lines.extend(
        f"指标 {i.category or '-'} {i.name} {i.baseline or '-'}→{i.target or '-'}" for i in plan.indicators
    )
    lines.extend(f"警告 {w}" for w in plan.warnings)
    sys.stdout.buffer.write(("\n".join(lines) + "\n").encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
