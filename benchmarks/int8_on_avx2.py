"""What an int8 generator computes on an x86 CPU without VNNI, computed on one with VNNI (or ARM): a
rewritten copy of the file.

    .venv/bin/python benchmarks/int8_on_avx2.py [--model mtm_daw/weights/ecmg_int8.onnx] --out build/int8_avx2.onnx
    .venv/bin/python benchmarks/quality_generator.py --count 24 --model build/int8_avx2.onnx

onnxruntime's uint8 x int8 kernel for AVX2 multiplies with VPMADDUBSW, which adds the products of neighbouring
inputs (k, k+1) into int16 with saturation; CPUs with VNNI (and ARM) add them in int32. The copy adds to
every MatMulInteger the difference saturation makes: for each (input pair, output column) whose two weights
can take the sum out of int16 for some uint8 inputs (255 times the sum of the pair's positive weights above
32767, or 255 times the sum of its negative ones below -32768), the pair's sum clipped to int16, minus the
sum itself. A file whose weights all fit in 7 bits has no such pair and is left as it is. On a CPU whose own
kernel saturates, the copy would saturate twice, so the script checks the kernel first and refuses. Prints
how many pairs and columns can saturate, and the copy's largest logit difference from the original on the
example feeds (onnx_export.ecmg.parity_checks).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from mtm_daw.engine.sessions import WEIGHTS_DIR, model_entry
from onnx_export.ecmg import graphs, largest_difference, onnx_logits, parity_checks

INT16 = (-32768, 32767)
UINT8_MAX = 255


def saturating_pairs(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(pair, column) of an int8 (K, N) weight matrix whose pair sums can leave int16 for some uint8 input."""
    weights = weights.astype(np.int64)
    even, odd = weights[0:len(weights) - len(weights) % 2:2], weights[1::2][:len(weights) // 2]
    highest = UINT8_MAX * (np.maximum(even, 0) + np.maximum(odd, 0))
    lowest = -UINT8_MAX * (np.maximum(-even, 0) + np.maximum(-odd, 0))
    return np.nonzero((highest > INT16[1]) | (lowest < INT16[0]))


def emulate_saturation(graph: onnx.GraphProto, weights: dict[str, np.ndarray], prefix: str) -> int:
    """Rewrite the nodes of `graph` (not those of graphs inside it) in place; the count of (pair, column)s
    that can saturate. `prefix` makes the names of what is added unique in the model."""
    count, nodes = 0, []
    for number, node in enumerate(graph.node):
        nodes.append(node)
        if node.op_type != "MatMulInteger" or node.input[1] not in weights:
            continue
        matrix = weights[node.input[1]]
        pairs, columns = saturating_pairs(matrix)
        if not len(pairs):
            continue
        count += len(pairs)
        name, result, inputs = f"{prefix}_{number}", node.output[0], node.input[0]
        node.output[0] = f"{name}_unsaturated"
        constants = {"first": 2 * pairs, "second": 2 * pairs + 1,
                     "first_weight": matrix[2 * pairs, columns].astype(np.float32),
                     "second_weight": matrix[2 * pairs + 1, columns].astype(np.float32),
                     "to_columns": np.eye(matrix.shape[1], dtype=np.float32)[columns],
                     "low": np.float32(INT16[0]), "high": np.float32(INT16[1])}
        graph.initializer.extend(numpy_helper.from_array(np.asarray(value), f"{name}_{key}")
                                 for key, value in constants.items())
        step = [("Cast", [None], "inputs", {"to": TensorProto.FLOAT}),  # None: the node's own input
                ("Gather", ["inputs", "first"], "a", {"axis": -1}), ("Gather", ["inputs", "second"], "b", {"axis": -1}),
                ("Mul", ["a", "first_weight"], "a_product", {}), ("Mul", ["b", "second_weight"], "b_product", {}),
                ("Add", ["a_product", "b_product"], "pair_sum", {}),
                ("Clip", ["pair_sum", "low", "high"], "clipped", {}), ("Sub", ["clipped", "pair_sum"], "lost", {}),
                ("MatMul", ["lost", "to_columns"], "lost_by_column", {}),
                ("Cast", ["lost_by_column"], "correction", {"to": TensorProto.INT32}),
                ("Add", ["unsaturated", "correction"], None, {})]  # None: the node's own output
        for op, operands, output, attributes in step:
            nodes.append(helper.make_node(op, [inputs if operand is None else f"{name}_{operand}" for operand in operands],
                                          [result if output is None else f"{name}_{output}"], **attributes))
    del graph.node[:]
    graph.node.extend(nodes)
    return count


def kernel_saturates() -> bool:
    """Whether this CPU's uint8 x int8 kernel clips pair sums to int16: 255 * 127 + 255 * 127 = 64770."""
    import onnxruntime

    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["a", "w"], ["y"])], "probe",
        [helper.make_tensor_value_info("a", TensorProto.UINT8, [1, 2])],
        [helper.make_tensor_value_info("y", TensorProto.INT32, [1, 1])],
        [numpy_helper.from_array(np.full((2, 1), 127, np.int8), "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return int(session.run(None, {"a": np.full((1, 2), 255, np.uint8)})[0][0, 0]) != 64770


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    entry = model_entry("ecmg", WEIGHTS_DIR)
    parser.add_argument("--model", type=Path, default=WEIGHTS_DIR / entry["int8"]["file"])
    parser.add_argument("--out", type=Path, required=True)
    arguments = parser.parse_args()
    if kernel_saturates():
        raise SystemExit("this CPU's int8 kernel saturates already (x86 without VNNI): run this on one with VNNI or on ARM")
    model = onnx.load(str(arguments.model))
    every_graph = list(enumerate(graphs(model.graph)))
    weights = {tensor.name: numpy_helper.to_array(tensor) for _, graph in every_graph for tensor in graph.initializer
               if tensor.data_type == TensorProto.INT8}
    # inner graphs first: rewriting a graph copies its nodes, so an If's branches must be done before it is
    count = sum(emulate_saturation(graph, weights, f"avx2_{number}") for number, graph in reversed(every_graph))
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(arguments.out))
    checks = parity_checks(entry["config"])
    difference = largest_difference(onnx_logits(arguments.out, checks), onnx_logits(arguments.model, checks))
    print(f"{arguments.model.name}: {count} (input pair, output column)s can saturate on AVX2; "
          f"logits of the emulation differ from the file's by up to {difference:.3f} (example feeds)")


if __name__ == "__main__":
    main()
