#!/usr/bin/env python3
"""NA64_API marking of the public headers (DESIGN.md: hidden visibility, one export marker).

  mark_api.py --check include/na64/*.h   exit 1 and name every top-level na64_* function
                                          declaration that lacks NA64_API (it would not be exported)
  mark_api.py include/na64/*.h           add the missing markers in place

A declaration is a statement at file scope (outside struct/enum bodies, `extern "C"` aside) that
starts in column 0, names an na64_* function and ends with ';'. `static inline` definitions, macros
and typedefs are not exported and are skipped.
"""
import re
import sys

SKIP = ('#', 'typedef', '}', '/*', '*', 'NA64_API', 'extern', 'enum', '//', 'static')


def strip_comment(text):
    return re.sub(r'/\*.*?\*/\s*$', '', text.rstrip()).rstrip()


def unmarked(lines):
    """Indices of the first lines of unmarked declarations."""
    found, depth = [], 0
    for i, line in enumerate(lines):
        if depth == 0 and line and not line[0].isspace() and not line.startswith(SKIP) \
                and not re.match(r'^struct\s+\w+\s*\{', line):
            stmt, j = line, i
            while not strip_comment(stmt).endswith((';', '{', '}')) and j + 1 < len(lines) and j - i < 12:
                j += 1
                stmt += '\n' + lines[j]
            if re.search(r'\bna64_\w+\s*\(', stmt) and strip_comment(stmt).endswith(';') and '{' not in stmt:
                found.append(i)
        if 'extern "C"' not in line:
            depth = max(0, depth + line.count('{') - line.count('}'))
    return found


def main(argv):
    check = '--check' in argv
    bad = 0
    for path in [a for a in argv if a != '--check']:
        lines = open(path).read().split('\n')
        idx = unmarked(lines)
        bad += len(idx)
        if check:
            for i in idx:
                print(f"{path}:{i + 1}: declaration without NA64_API: {lines[i].strip()}")
        elif idx:
            for i in idx:
                lines[i] = 'NA64_API ' + lines[i]
            open(path, 'w').write('\n'.join(lines))
    return 1 if check and bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
