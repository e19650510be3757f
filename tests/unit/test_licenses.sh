#!/bin/bash
# Licenses: every SPDX-License-Identifier line of the tree is the license
# debian/copyright (DEP-5: the last stanza that matches a file wins) gives
# that file, LICENSES/ holds the text of every license named, and the
# DEP-5 file parses as one (its License paragraphs cover every name).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
if git rev-parse --git-dir >/dev/null 2>&1; then
	files=$(git ls-files)
else
	files=$(find . -path ./build -prune -o -type f -print | sed 's|^\./||')
fi
python3 - debian/copyright <<PY
import fnmatch, os, re, sys
spdx2deb = {'GPL-2.0': 'GPL-2', 'LGPL-2.1': 'LGPL-2.1', 'MIT': 'Expat'}
paras = [p for p in re.split(r'\n\s*\n', open(sys.argv[1]).read()) if p.strip()]
stanzas, texts = [], set()
for p in paras:
    f = {}
    key = None
    for l in p.split('\n'):
        if l.startswith(' ') and key:
            f[key] += '\n' + l.strip()
        elif ':' in l:
            key, v = l.split(':', 1)
            f[key] = v.strip()
    if 'Files' in f:
        stanzas.append((f['Files'].split(), f['License'].split('\n')[0]))
    elif 'License' in f and '\n' in f['License']:
        texts.add(f['License'].split('\n')[0])
bad = 0
def fail(msg):
    global bad
    bad = 1
    print('FAIL: ' + msg)
for _, lic in stanzas:
    for name in re.split(r' or | and ', lic):
        if name not in texts:
            fail('debian/copyright: no License paragraph with the text of ' + name)
seen = set()
for path in """$files""".split():
    if not os.path.isfile(path) or path.startswith('LICENSES/'):
        continue
    try:
        head = open(path, errors='replace').read(400)
    except OSError:
        continue
    m = re.search(r'SPDX-License-Identifier: ([A-Za-z0-9.+ -]+?)\s*(\*/)?$', head, re.M)
    if not m:
        continue
    ids = m.group(1).split(' OR ')
    for i in ids:
        seen.add(i)
        if i not in spdx2deb:
            fail('%s: unknown SPDX id %s' % (path, i))
    want = ' or '.join(spdx2deb.get(i, i) for i in ids)
    lic = None
    for pats, l in stanzas:
        if any(fnmatch.fnmatchcase(path, p) for p in pats):
            lic = l
    if lic != want:
        fail('%s: SPDX %s, debian/copyright says %s' % (path, m.group(1), lic))
for i in seen:
    if not os.path.isfile('LICENSES/' + i):
        fail('LICENSES/%s missing' % i)
if not bad:
    print('licenses: %d SPDX ids, %d stanzas agree' % (len(seen), len(stanzas)))
sys.exit(bad)
PY
