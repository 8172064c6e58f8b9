#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz target (Tests/fuzz/corpus/).

    python3 Tests/fuzz/make_corpus.py [TESTDATA_DIR]     (default Tests/testdata)

Seeds, all small (a few KB at most, so that libFuzzer's -max_len stays small):
  model-*    the `model` part of the small reference cases, the example models,
             and a few hand-written documents (init, tensor forms, metadata);
  invalid-*  the invalid documents (deep_nesting.json, 200 KB, replaced by
             a 100-level one);
  config-*   trainer configurations: `config:` then the JSON (see
             Sources/RecurFuzz/Fuzz.swift), from the reference cases and by hand.
The corpus is committed; rerun this only to refresh it.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, "corpus")
MAX_SEED = 4096


def write(name, text):
    data = text.encode() if isinstance(text, str) else text
    if len(data) > MAX_SEED:
        print(f"skipped {name}: {len(data)} bytes", file=sys.stderr)
        return
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def main():
    testdata = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests", "testdata")
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        os.remove(os.path.join(OUT, name))

    configs = {}
    for name in sorted(os.listdir(testdata)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(testdata, name)) as f:
            case = json.load(f)
        base = name[:-5]
        write(f"model-{base}.json", json.dumps(case["model"], separators=(",", ":")))
        if "train" in case:
            configs[base] = json.dumps(case["train"]["config"])

    for name in sorted(os.listdir(os.path.join(ROOT, "examples", "models"))):
        if name.endswith(".json"):
            with open(os.path.join(ROOT, "examples", "models", name), "rb") as f:
                write(f"model-example-{name}", f.read())

    invalid = os.path.join(testdata, "invalid")
    for name in sorted(os.listdir(invalid)):
        if name == "manifest.json":
            continue
        if name == "deep_nesting.json":
            write("invalid-deep_nesting.json", "[" * 100 + "]" * 100)
            continue
        with open(os.path.join(invalid, name), "rb") as f:
            write(f"invalid-{name}", f.read())

    head = '{"format":"recur","version":1,'
    hand = {
        "init-orthogonal": head + '"input_size":2,"init":{"seed":3,"recurrent":"orthogonal"},'
                           '"layers":[{"type":"lstm","hidden_size":3},{"type":"gru","hidden_size":2},{"type":"dense","units":2,"activation":"softmax"}]}',
        "init-identity": head + '"input_size":1,"init":{"seed":9223372036854775807,"recurrent":"identity"},'
                         '"layers":[{"type":"rnn","hidden_size":4,"activation":"relu"},{"type":"gru","hidden_size":2}]}',
        "init-uniform": head + '"input_size":4,"init":{"seed":0,"recurrent":"uniform"},'
                        '"layers":[{"type":"dense","units":3,"activation":"tanh"},{"type":"rnn","hidden_size":2},{"type":"dense","units":1,"activation":"sigmoid"}]}',
        "forms": head + '"input_size":2,"layers":[{"type":"rnn","hidden_size":1,"weights":{'
                 '"weight_ih":[[1e-45,-3.4028235e38]],"weight_hh":{"shape":[1,1],"data":[0.5]},'
                 '"bias_ih":{"shape":[1],"base64":"AACAPw=="},"bias_hh":[-0]}}],'
                 '"metadata":{"a":[1.50,{"b":"\\/\\u00e9"}],"c":null}}',
        "dense-nobias": head + '"input_size":2,"layers":[{"type":"dense","units":2,"activation":"relu","weights":{"weight":[[1,2],[3,4]]}}]}',
    }
    for name, text in hand.items():
        json.loads(text)
        write(f"model-{name}.json", text)
    # Refused at once since the limit on orthogonal init; minutes of
    # Gram-Schmidt (a fuzz timeout) without it.
    write("invalid-orthogonal-4096.json", head + '"input_size":1,"init":{"recurrent":"orthogonal"},'
          '"layers":[{"type":"gru","hidden_size":4096}]}')

    configs.update({
        "empty": "",
        "object": "{}",
        "sgd-all": '{"loss":"mse","targets":"sequence","optimizer":{"type":"sgd","learning_rate":0.1,"momentum":0.9,"weight_decay":0.0001},'
                   '"clip_gradient_norm":1e-3,"freeze":[0,1,2],"stateful":false}',
        "adam-all": '{"optimizer":{"type":"adam","learning_rate":0,"beta1":0,"beta2":0.999999,"epsilon":1e-30,"weight_decay":0}}',
        "bce-last": '{"loss":"binary_cross_entropy","targets":"last","stateful":true,"freeze":[]}',
        "bad-key": '{"los":"mse"}',
        "bad-freeze": '{"freeze":[3,-1,1.5]}',
        "bad-optimizer": '{"optimizer":{"type":"sgd","beta1":0.9}}',
        "not-json": '{"loss":',
    })
    for name, text in configs.items():
        write(f"config-{name}.txt", "config:" + text)


if __name__ == "__main__":
    main()
