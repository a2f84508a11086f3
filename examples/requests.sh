#!/usr/bin/env bash
# A tour of the API with curl. Start the service first:
#   KENSHU_JWT_SECRET=$(openssl rand -hex 32) cargo run --release -p kenshu-api --bin kenshu -- serve --demo
# and export the same KENSHU_JWT_SECRET here (or paste the hr_admin token printed at start as TOKEN).
set -euo pipefail
BASE="${BASE:-http://127.0.0.1:8080}"
KENSHU="${KENSHU:-cargo run -q --release -p kenshu-api --bin kenshu --}"
TOKEN="${TOKEN:-$($KENSHU token --org isehara --sub 10035 --role employee --role hr_admin)}"
auth=(-H "Authorization: Bearer $TOKEN")

echo '# who am I'
curl -fsS "${auth[@]}" "$BASE/api/v1/me"; echo

echo '# employees of grade 係長, first page of 5'
curl -fsS "${auth[@]}" "$BASE/api/v1/employees?grade=%E4%BF%82%E9%95%B7&limit=5"; echo

echo '# validate a roster file without writing (dry run), then import it as an upsert'
curl -sS "${auth[@]}" -H 'Content-Type: text/csv' --data-binary @"$(dirname "$0")/roster.csv" \
    "$BASE/api/v1/employees/import?mode=upsert&dry_run=true"; echo
curl -sS "${auth[@]}" -H 'Content-Type: text/csv' --data-binary @"$(dirname "$0")/roster.csv" \
    "$BASE/api/v1/employees/import?mode=upsert"; echo

echo '# reading one employee gives its ETag; a PUT sends it back as If-Match'
ID=$(curl -fsS "${auth[@]}" "$BASE/api/v1/employees?q=2002" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
ETAG=$(curl -fsS -D - -o /dev/null "${auth[@]}" "$BASE/api/v1/employees/$ID" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')
echo "ETag: $ETAG"

echo '# the FY2023 catalogue the demo loaded: courses running in July, and a text search (研修)'
curl -fsS "${auth[@]}" "$BASE/api/v1/courses?fiscal_year=2023&month=7&limit=3"; echo
curl -fsS "${auth[@]}" "$BASE/api/v1/courses?fiscal_year=2023&q=%E7%A0%94%E4%BF%AE&limit=3"; echo

echo '# who the audience rules of 採用後２次研修 (階層別 No.6) match, and the courses I can take'
COURSE=$(curl -fsS "${auth[@]}" "$BASE/api/v1/courses?fiscal_year=2023&category=hierarchical&limit=6" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][5]["id"])')
curl -fsS "${auth[@]}" "$BASE/api/v1/courses/$COURSE/eligible?limit=3"; echo
curl -fsS "${auth[@]}" "$BASE/api/v1/me/courses?fiscal_year=2023"; echo

echo '# the catalogue as CSV for Excel (first lines), and a dry run of importing it back'
curl -fsS "${auth[@]}" "$BASE/api/v1/plans/2023/export" -o /tmp/kenshu-plan-2023.csv && head -c 600 /tmp/kenshu-plan-2023.csv; echo
curl -sS "${auth[@]}" -H 'Content-Type: text/csv' --data-binary @/tmp/kenshu-plan-2023.csv \
    "$BASE/api/v1/plans/2023/import?dry_run=true"; echo

echo '# a course trainee list (受講者名簿) and who has not yet taken it (未受講者) as files for Excel'
curl -fsS "${auth[@]}" "$BASE/api/v1/courses/$COURSE/nominations?format=csv" | head -c 400; echo
curl -fsS "${auth[@]}" "$BASE/api/v1/training-gaps?course_ids=$COURSE&fiscal_year=2023&format=xlsx" \
    -o /tmp/kenshu-training-gaps.xlsx && ls -l /tmp/kenshu-training-gaps.xlsx

echo '# the FY2023 internship programme, a student recommended by a university, and its places (HR)'
curl -sS "${auth[@]}" -H 'Content-Type: application/json' \
    -d '{"title": "就業体験学生（インターンシップ）受入れ", "starts_on": "2023-08-07", "ends_on": "2023-08-18", "capacity": 4}' \
    "$BASE/api/v1/internships/2023"; echo
curl -sS "${auth[@]}" -H 'Content-Type: application/json' \
    -d '{"name": "相模 花子", "university": "東海大学", "recommended_on": "2023-06-30"}' \
    "$BASE/api/v1/internships/2023/students"; echo
curl -fsS "${auth[@]}" "$BASE/api/v1/internships/2023"; echo

echo "# workflow settings: who decides on department heads' own items, when the waiting list stops moving up, the default language"
curl -fsS "${auth[@]}" "$BASE/api/v1/organisation/workflow"; echo

echo '# the audit log, newest first'

curl -fsS "${auth[@]}" "$BASE/api/v1/audit?limit=3"; echo

echo '# the audit log checked link by link (its chain head is worth keeping elsewhere)'
curl -fsS "${auth[@]}" "$BASE/api/v1/audit/verification"; echo
