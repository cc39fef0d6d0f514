#!/usr/bin/env bash
# Builds the hostile inputs of the hardening issue in a temporary folder, runs the
# release binary on each under /usr/bin/time -v, and prints the ROBUSTNESS.md table
# (input, exit code, first message line, peak memory, wall time).
#
#   tools/robustness.sh [> table.md]
#
# BIN=path/to/gongwen overrides the binary (default target/release/gongwen; build it
# with `cargo build --release`). Needs bash, python3 (standard library only),
# mkfifo, timeout and GNU time. Each run is killed after 60 s (reported as 超时).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/target/release/gongwen}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
[ -x "$BIN" ] || { echo "没有 $BIN：请先 cargo build --release" >&2; exit 2; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W"
export SOURCE_DATE_EPOCH=1693440000 # 2023-08-31, unless an attack sets it

# --- helpers -----------------------------------------------------------------

# new_case DIR: the built-in example as a case folder
new_case() { "$BIN" init "$1" >/dev/null; }

# sub FILE OLD NEW: replaces the first OLD in FILE (literal strings)
sub() {
	python3 - "$@" <<'EOF'
import sys
path, old, new = sys.argv[1:4]
text = open(path, encoding="utf-8").read()
assert old in text, f"{old!r} not in {path}"
open(path, "w", encoding="utf-8").write(text.replace(old, new, 1))
EOF
}

# seal PNG (a small valid image), a 20000 × 20000 header, a truncated PNG
png() {
	python3 - "$@" <<'EOF'
import struct, sys, zlib
kind, path = sys.argv[1:3]
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
sig = b"\x89PNG\r\n\x1a\n"
if kind == "huge":
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", 20000, 20000, 8, 6, 0, 0, 0))
    data = sig + ihdr + chunk(b"IDAT", zlib.compress(b"\0" * 1024)) + chunk(b"IEND", b"")
else:
    w = h = 8
    raw = b"".join(b"\0" + b"\xff\0\0\xff" * w for _ in range(h))
    data = sig + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)) \
        + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    if kind == "truncated":
        data = data[:40]
open(path, "wb").write(data)
EOF
}

# workbooks built by hand (zipfile, deflate)
workbook() {
	python3 - "$@" <<'EOF'
import os, sys, zipfile
kind, path = sys.argv[1:3]
CT = '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
RELS = '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
WB = '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="任务表" sheetId="1" r:id="rId1"/></sheets></workbook>'
WBRELS = '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
def istr(ref, s):
    return f'<c r="{ref}" t="inlineStr"><is><t>{s}</t></is></c>'
HEAD = '<row r="1">' + istr("A1", "序号") + istr("B1", "三级指标") + istr("C1", "责任单位") + '</row>'
def xlsx(sheet, strings):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CT)
        z.writestr("_rels/.rels", RELS)
        z.writestr("xl/workbook.xml", WB)
        z.writestr("xl/_rels/workbook.xml.rels", WBRELS)
        z.writestr("xl/worksheets/sheet1.xml", f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}><sheetData>{sheet}</sheetData>' + ("" if "<mergeCells" in sheet else "") + '</worksheet>')
        z.writestr("xl/sharedStrings.xml", f'<?xml version="1.0" encoding="UTF-8"?><sst {NS} count="{len(strings)}" uniqueCount="{len(strings)}">' + "".join(f"<si><t>{s}</t></si>" for s in strings) + "</sst>")
if kind == "xfd":
    row2 = '<row r="2">' + istr("A2", "1") + istr("B2", "指标") + istr("C2", "县司法局") + '</row>'
    xlsx(HEAD + row2 + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>', [])
elif kind == "bigstring":
    row2 = '<row r="2">' + istr("A2", "1") + '<c r="B2" t="s"><v>0</v></c>' + istr("C2", "县司法局") + '</row>'
    xlsx(HEAD + row2, ["x" * (30 * 1024 * 1024)])
elif kind == "ods":
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="任务表">'
        '<table:table-row><table:table-cell office:value-type="string"><text:p>序号</text:p></table:table-cell>'
        '<table:table-cell office:value-type="string"><text:p>三级指标</text:p></table:table-cell></table:table-row>'
        '</table:tabl8></office:spreadsheet></office:body></office:document-content>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content)
elif kind == "xls-truncated":
    # an OLE2 compound file header, cut off after 600 bytes
    head = bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 16 + bytes.fromhex("3e000300feff0900060000000000000000000000010000000100000000000000001000000200000001000000feffffff00000000")
    open(path, "wb").write((head + b"\xff" * 600)[:600])
elif kind == "xls-random":
    open(path, "wb").write(os.urandom(64 * 1024))
elif kind == "hmerge":
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "任务表"
    ws.append(["序号", "三级指标", "填报材料", "责任单位"])
    ws.append([1, "指标一", "材料一", "县司法局"])
    ws.append([2, "指标二", "材料二横跨两列", None])
    ws.append([3, "指标三", "材料三", "县司法局"])
    ws.merge_cells("C3:D3")
    wb.save(path)
elif kind.startswith("rows-"):
    # rows-N-TEXT: N indicator rows, each with TEXT (one shared string) as 三级指标
    _, n, text = kind.split("-", 2)
    rows = [HEAD] + [f'<row r="{r}">' + istr(f"A{r}", str(r - 1)) + f'<c r="B{r}" t="s"><v>0</v></c>' + istr(f"C{r}", "县司法局") + '</row>' for r in range(2, int(n) + 2)]
    xlsx("".join(rows), [text])
elif kind == "note":
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "任务表"
    ws.append(["序号", "三级指标", "填报材料", "责任单位"])
    ws.append([1, "指标一", "材料一", "县司法局"])
    ws.append(["注：本表由县司法局负责解释", None, None, None])
    ws.merge_cells("A3:D3")
    wb.save(path)
elif kind == "roster":
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["组别", "姓名", "职务"])
    ws.append(["组长", "张三", "县长"])
    wb.save(path)
EOF
}

# run NAME WHAT CWD ARGS…: runs the binary, prints one table row
run() {
	local name=$1 what=$2 cwd=$3
	shift 3
	local t="$W/.time" e="$W/.stderr" code
	set +e
	(cd "$cwd" && timeout -s KILL 60 /usr/bin/time -v -o "$t" "$BIN" "$@" \
		>/dev/null 2>"$e" </dev/null)
	code=$?
	set -e
	local rss wall msg
	rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$t" 2>/dev/null || true)
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$t" 2>/dev/null || true)
	wall=$(python3 -c 'import sys
p=sys.argv[1].split(":") if sys.argv[1] else []
print(f"{sum(float(x)*60**i for i,x in enumerate(reversed(p))):.2f}" if p else "?")' "$wall")
	[ "$code" = 137 ] && code="超时（60 s）"
	# the first line that is a message (not the final count), paths shortened
	msg=$(grep -v '^共 .* 个错误' "$e" | grep -v '^  ' | head -n 1 | sed "s#$W/#<临时目录>/#g; s/|/\\\\|/g" || true)
	[ -z "$msg" ] && msg="（无错误输出）"
	msg=$(python3 -c 'import re, sys; m = sys.argv[1]; m = re.sub(r"(.)\1{19,}", lambda g: g.group(1) * 3 + f"…（共 {len(g.group(0))} 个）", m); print(re.sub("[\u200b-\u200f\u202a-\u202e\u2066-\u2069]", lambda g: f"<U+{ord(g.group(0)):04X}>", m))' "$msg")
	printf '| %s | %s | %s | %s | %s | %s |\n' "$name" "$what" "$code" "$msg" "${rss:-?}" "$wall"
}

# --- the attacks -------------------------------------------------------------

echo '| # | 输入 | 退出码 | 消息（第一行） | 峰值内存 MiB | 用时 s |'
echo '| --- | --- | --- | --- | --- | --- |'

new_case c1 && cp c1/指标.toml x.toml && sub c1/case.toml '"指标" = "指标.toml"' '"指标" = "../x.toml"'
run 1 '`"数据"."指标" = "../x.toml"`（案卷外存在的文件）' c1 build .
new_case c2 && sub c2/case.toml '"指标" = "指标.toml"' '"指标" = "/etc/passwd"'
run 2 '`"数据"."指标" = "/etc/passwd"`' c2 build .
new_case c3 && rm c3/指标.toml && ln -s ../x.toml c3/指标.toml
run 3 '`指标.toml` 是指向案卷外的符号链接' c3 build .
new_case c4 && printf '[["单位"]]\n"名称" = "县司法局"\n' >u.toml \
	&& sub c4/case.toml '"指标" = "指标.toml"' '"指标" = "指标.toml"
"单位" = "../u.toml"'
run 4 '`"数据"."单位" = "../u.toml"`' c4 build .
new_case c5 && workbook roster 名单.xlsx && cat >>c5/case.toml <<'EOF'

[["附件"]]
"标题" = "领导小组成员名单"
"类型" = "名单"
"数据" = "../名单.xlsx"
EOF
run 5 '名单附件 `"数据" = "../名单.xlsx"`' c5 build .
png ok seal.png
new_case c6 && ln -s ../seal.png c6/印章.png && sub c6/case.toml '"盖章" = false' '"盖章" = true
"印章" = "印章.png"'
run 6 '`"印章"` 是指向案卷外 PNG 的符号链接' c6 build .
new_case c7 && sub c7/case.toml '"盖章" = false' "\"盖章\" = true
\"印章\" = \"$W/seal.png\""
run 7 '`"印章"` 写绝对路径' c7 build .
new_case c8 && rm c8/指标.toml && mkfifo c8/指标.toml
run 8 '`指标.toml` 是 FIFO' c8 build .
new_case c9 && mkfifo c9/印章.png && sub c9/case.toml '"盖章" = false' '"盖章" = true
"印章" = "印章.png"'
run 9 '`印章.png` 是 FIFO' c9 build .
mkdir c10 && mkfifo c10/case.toml
run 10 '`case.toml` 是 FIFO' c10 build .
new_case c11 && workbook xfd c11/指标.xlsx && sub c11/case.toml '"指标.toml"' '"指标.xlsx"'
run 11 'xlsx 中一个值在 XFD1048576' c11 build .
new_case c12 && workbook bigstring c12/指标.xlsx && sub c12/case.toml '"指标.toml"' '"指标.xlsx"'
run 12 'xlsx 的 sharedStrings 中一个 30 MB 的字符串' c12 build .
new_case c13 && workbook ods c13/指标.ods && sub c13/case.toml '"指标.toml"' '"指标.ods"'
run 13 '.ods 的结束标签损坏（`</table:tabl8>`）' c13 build .
new_case c14 && workbook xls-truncated c14/指标.xls && sub c14/case.toml '"指标.toml"' '"指标.xls"'
run 14 '截断的 .xls' c14 build .
new_case c15 && workbook xls-random c15/指标.xls && sub c15/case.toml '"指标.toml"' '"指标.xls"'
run 15 '随机字节命名为 .xls' c15 build .
new_case c16 && png huge c16/印章.png && sub c16/case.toml '"盖章" = false' '"盖章" = true
"印章" = "印章.png"'
run 16 '20000 × 20000 的 PNG 头（IHDR 与 CRC 正确）作印章' c16 build .
new_case c17 && png truncated c17/印章.png && sub c17/case.toml '"盖章" = false' '"盖章" = true
"印章" = "印章.png"'
run 17 '截断的 PNG 作印章' c17 build .
new_case c18 && sub c18/case.toml '"正文" = [' '"正文" = ['"'"'{{ get_env(name="HOME") }}'"'"', '
run 18 '正文 `{{ get_env(name="HOME") }}`' c18 build .
new_case c19 && sub c19/case.toml '"正文" = [' '"正文" = ['"'"'{% for i in range(end=2000000000) %}x{% endfor %}'"'"', '
run 19 '正文 `{% for i in range(end=2000000000) %}x{% endfor %}`' c19 build .
new_case c20 && sub c20/case.toml '"正文" = [' '"正文" = ['"'"'{% macro f(n) %}{{ self::f(n=n) }}{% endmacro f %}{{ self::f(n=1) }}'"'"', '
run 20 '正文中自递归的宏' c20 build .
new_case c21 && sub c21/case.toml '"正文" = [' '"正文" = ['"'"'{% for a in range(end=1000) %}{% for b in range(end=1000) %}{% for c in range(end=1000) %}x{% endfor %}{% endfor %}{% endfor %}'"'"', '
run 21 '正文中三层嵌套的 for 循环' c21 build .
new_case c22
run 22 '`--date +10000-01-01`' c22 build . --date +10000-01-01
SOURCE_DATE_EPOCH=253402300800 run 23 '`SOURCE_DATE_EPOCH=253402300800`' c22 build .
run 24 '`status --reply-days 100000000`' c22 status . --reply-days 100000000
run 25 '`status --reply-days=-3`' c22 status . --reply-days=-3
run 26 '`status --first-number 9223372036854775807`' c22 status . --first-number 9223372036854775807
mkdir -p all/甲 all/乙 && new_case all/甲/某县 && new_case all/乙/某县
run 27 '`build --all` 含 `甲/某县` 与 `乙/某县`' . build --all all --out all-out
echo "| | （27 写出的文件） | | $(cd all-out && find . -type f | sort | tr '\n' ' ') | | |"
units_case() { # units_case DIR UNIT1 UNIT2
	new_case "$1"
	printf '[["单位"]]\n"名称" = "%s"\n"类别" = "县直单位"\n\n[["单位"]]\n"名称" = "%s"\n"类别" = "县直单位"\n' "$2" "$3" >"$1/单位.toml"
	python3 - "$1/指标.toml" "$2" "$3" <<'EOF'
import re, sys
path, a, b = sys.argv[1:]
text = open(path, encoding="utf-8").read()
n = [0]
def unit(m):
    n[0] += 1
    return f'"责任单位" = "{a if n[0] % 2 else b}"'
open(path, "w", encoding="utf-8").write(re.sub(r'"责任单位" = "[^"]*"', unit, text))
EOF
	sub "$1/case.toml" '"指标" = "指标.toml"' '"指标" = "指标.toml"
"单位" = "单位.toml"'
}
units_case c28 '县委*办' '县委:办'
run 28 '`units`：单位 `县委*办` 与 `县委:办`（文件名相同）' c28 units .
units_case c29 '各单位任务汇总表' '县司法局'
run 29 '`units`：单位名为 `各单位任务汇总表`' c29 units .
new_case c30
"$BIN" build c30 --out same >/dev/null 2>c30.err &
run 30 '两个 build 同时写入同一 `--out`（此为其中一个）' . build c30 --out same
other=0
wait $! || other=$?
otherm=$(grep -v '^共 ' c30.err | head -n 1 | sed "s#$W/#<临时目录>/#g" || true)
echo "| | （30 同时运行的另一个 build） | $other | ${otherm:-（无错误输出）} | | |"
n=31
for name in '' '.' '..' 'CON' $'左\u202E右' "$(python3 -c 'print("长" * 251)')"; do
	d=c$n
	new_case $d && sub $d/case.toml '"输出名" = "夏邑县创建示范县工作推进方案"' "\"输出名\" = \"$name\""
	shown=$(python3 -c 'import sys; s=sys.argv[1]; print(repr(s) if len(s) < 10 else f"{len(s)} 个汉字")' "$name")
	run $n "输出名 = $shown" $d build .
	n=$((n + 1))
done
mkdir c37 && echo '# 我的数据' >c37/指标.toml
run 37 '`init` 到已有 `指标.toml`（且无 case.toml）的文件夹' . init c37
[ "$(cat c37/指标.toml)" = '# 我的数据' ] && [ ! -e c37/case.toml ] \
	|| echo '| | （37：文件被改动！） | | | | |' 
new_case c38 && png truncated c38/印章.png && sub c38/case.toml '"盖章" = false' '"盖章" = true
"印章" = "印章.png"'
run 38 '`check`：截断的印章 PNG' c38 check .
new_case c39 && sub c39/case.toml '"盖章" = false' "\"盖章\" = true
\"印章\" = \"$W/seal.png\""
run 39 '`check`：印章写绝对路径' c39 check .
new_case c40 && sub c40/case.toml '"输出名" = "夏邑县创建示范县工作推进方案"' "\"输出名\" = \"$(python3 -c 'print("长" * 251)')\""
run 40 '`check`：251 个汉字的输出名' c40 check .
new_case c41 && sub c41/case.toml '"横排" = true' '"横排" = true
"列" = ["序号", "三级指标", "填报材料", "责任单位"]
"列宽" = ["100", "100", "100", "100"]'
run 41 '`"列宽"` 合计 400 mm（超过版心宽）' c41 build .
new_case c42 && workbook hmerge c42/指标.xlsx && sub c42/case.toml '"指标.toml"' '"指标.xlsx"'
run 42 '工作簿数据行中的横向合并（C3:D3）' c42 build .
new_case c43 && workbook "rows-9999-$(python3 -c 'print("长" * 2000)')" c43/指标.xlsx && sub c43/case.toml '"指标.toml"' '"指标.xlsx"'
run 43 '9,999 行、每行 2,000 字的工作簿（不到 1 MB）' c43 build .
new_case c44 && workbook "rows-9999-$(python3 -c 'print("推进行政执法三项制度落实" * 8)')" c44/指标.xlsx && sub c44/case.toml '"指标.toml"' '"指标.xlsx"'
run 44 '9,999 行、每行三行文字的工作簿（排版后超过 2,000 页）' c44 build .
run 45 '`build --bogus`（没有的选项）' c22 build --bogus
run 46 '`status --reply-days abc`' c22 status . --reply-days abc
new_case c47 && workbook note c47/指标.xlsx && sub c47/case.toml '"指标.toml"' '"指标.xlsx"'
run 47 '工作簿中整行合并的说明行（"注：…"）' c47 build .
