"""Independent reference for the DUP prompt-assembly goldens (spec section 1.1 and 7.2).

Builds the stage-1/2/3 prompts for GSM8K test item 0 with fixed fake stage outputs, straight
from the spec's wording and layout (not from the Rust code), for two template sets:
  paper           - the paper's sentences in the official code's layout (built into `pico dup`)
  official_layout - tools/data/templates/official_code_layout.txt (placeholder sentences)
Run from the repository root:  python3 tools/tests/golden/dup/make_prompts.py
Python 3.11 standard library only.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))  # tools/

with open(os.path.join(ROOT, "data", "gsm8k_test.jsonl"), encoding="utf-8") as f:
    Q = json.loads(f.readline())["question"]
CQ = "How much in dollars does Janet make every day at the farmers' market?"
PSI = "- Janet's ducks lay 16 eggs per day.\n- She eats 3 and bakes with 4.\n- She sells each egg for $2."

paper = {
    "s1": Q + " " + "Please extract core question, only extract the most comprehensive and detailed one!",
    "s2": Q + " \n" + "Note: Please extract the problem-solving information related to the core question "
    + CQ + ", Only extract the most useful information, list them one by one!",
    "s3": "question:\n" + Q + "\nHint:" + PSI + "\n" + CQ + "\n"
    + " Please understand the Hint and question information, then solve the problem step by step and show the answer.",
}
official = {
    "s1": Q + " " + "<stage-1 instruction: extract the core question>",
    "s2": Q + " \n" + "<stage-2 instruction, first part> (" + CQ + ") <stage-2 instruction, second part>",
    "s3": "question:\n" + Q + "\nHint:" + PSI + "\n" + CQ + "\n"
    + "<stage-3 instruction: understand the hint and question, give the answer with details>",
}
for name, d in [("paper", paper), ("official_layout", official)]:
    for stage, text in d.items():
        with open(os.path.join(HERE, f"{name}_{stage}.txt"), "w", encoding="utf-8", newline="") as f:
            f.write(text)
with open(os.path.join(HERE, "fake_outputs.json"), "w", encoding="utf-8") as f:
    json.dump({"cq": CQ, "psi": PSI}, f, ensure_ascii=False, indent=1)
print("wrote goldens to", HERE)
