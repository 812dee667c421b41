"""Hendrycks MATH reference (last_boxed_only_string, remove_boxed, strip_string, is_equiv), as evalchemy runs it.

Used by xfer's fidelity test (hendrycks-fidelity.int.test.ts) and by `pnpm bench:score`.
Modes: `pairs <file>` prints is_equiv and strip_string (or an error marker) for each JSON line [gold, predicted];
`bench <file>` times extraction + is_equiv over {"response", "gold"} lines (best of 5).
"""
import json, sys, time
def last_boxed_only_string(string):
    idx = string.rfind("\\boxed")
    if idx < 0:
        idx = string.rfind("\\fbox")
        if idx < 0:
            return None
    i = idx; right = None; depth = 0
    while i < len(string):
        if string[i] == "{": depth += 1
        if string[i] == "}":
            depth -= 1
            if depth == 0:
                right = i; break
        i += 1
    return None if right is None else string[idx:right + 1]
def remove_boxed(s):
    left = "\\boxed{"
    try:
        assert s[:len(left)] == left and s[-1] == "}"
        return s[len(left):-1]
    except Exception:
        return None
def _fix_fracs(string):
    substrs = string.split("\\frac"); new_str = substrs[0]
    if len(substrs) > 1:
        for substr in substrs[1:]:
            new_str += "\\frac"
            if substr[0] == "{":
                new_str += substr
            else:
                if len(substr) < 2: return string
                a = substr[0]; b = substr[1]
                if b != "{":
                    new_str += "{" + a + "}{" + b + "}" + substr[2:]
                else:
                    new_str += "{" + a + "}" + b + substr[2:]
    return new_str
def _fix_a_slash_b(string):
    if len(string.split("/")) != 2: return string
    a, b = string.split("/")
    try:
        a = int(a); b = int(b)
        assert string == "{}/{}".format(a, b)
        return "\\frac{" + str(a) + "}{" + str(b) + "}"
    except (AssertionError, ValueError):
        return string
def _remove_right_units(string):
    if "\\text{ " in string:
        splits = string.split("\\text{ ")
        assert len(splits) == 2
        return splits[0]
    return string
def _fix_sqrt(string):
    if "\\sqrt" not in string: return string
    splits = string.split("\\sqrt"); new_string = splits[0]
    for split in splits[1:]:
        if split[0] != "{":
            new_string += "\\sqrt{" + split[0] + "}" + split[1:]
        else:
            new_string += "\\sqrt" + split
    return new_string
def strip_string(string):
    string = string.replace("\n", "").replace("\\!", "").replace("\\\\", "\\")
    string = string.replace("tfrac", "frac").replace("dfrac", "frac")
    string = string.replace("\\left", "").replace("\\right", "")
    string = string.replace("^{\\circ}", "").replace("^\\circ", "")
    string = string.replace("\\$", "")
    string = _remove_right_units(string)
    string = string.replace("\\%", "")
    string = string.replace(" .", " 0.").replace("{.", "{0.")
    if len(string) == 0: return string
    if string[0] == ".": string = "0" + string
    if len(string.split("=")) == 2 and len(string.split("=")[0]) <= 2:
        string = string.split("=")[1]
    string = _fix_sqrt(string)
    string = string.replace(" ", "")
    string = _fix_fracs(string)
    if string == "0.5": string = "\\frac{1}{2}"
    return _fix_a_slash_b(string)
def is_equiv(str1, str2):
    if str1 is None and str2 is None: return True
    if str1 is None or str2 is None: return False
    try:
        return strip_string(str1) == strip_string(str2)
    except Exception:
        return str1 == str2

def main():
    mode, path = sys.argv[1], sys.argv[2]
    rows = [json.loads(line) for line in open(path)]
    if mode == "pairs":
        out = []
        for gold, predicted in rows:
            try:
                stripped = strip_string(predicted)
            except Exception:
                stripped = None
            out.append([is_equiv(gold, predicted), stripped])
        print(json.dumps(out))
        return
    best = None
    verdicts = None
    for _ in range(5):
        start = time.perf_counter()
        result = []
        for row in rows:
            boxed = last_boxed_only_string(row["response"])
            extracted = None if boxed is None else remove_boxed(boxed)
            result.append(extracted is not None and is_equiv(row["gold"], extracted))
        elapsed = (time.perf_counter() - start) * 1000
        if best is None or elapsed < best:
            best, verdicts = elapsed, result
    print(json.dumps({"ms": best, "verdicts": verdicts}))


if __name__ == "__main__":
    main()
