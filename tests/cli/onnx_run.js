// Runs an ONNX model with ONNX Runtime (onnxruntime-node), for tests/cli/test_onnx.sh.
//
// usage: node onnx_run.js MODEL.onnx INPUTS.f32 DIMS OUTPUTS.f32
//   INPUTS.f32: float32 values, little-endian, of a [batch, DIMS...] tensor (DIMS e.g. "28,28")
//   OUTPUTS.f32: written, the model's one output on the whole batch, float32 little-endian.
// The first five samples also run alone (batch 1): the batch dimension must be dynamic and a
// sample's outputs must not depend on its batch (within 1e-5). One intra-op thread.
// NODE_PATH (or a node_modules above this file) must lead to onnxruntime-node.
"use strict";
const fs = require("fs");
const ort = require("onnxruntime-node");

async function main() {
  const [modelPath, inputPath, dimsText, outputPath] = process.argv.slice(2);
  if (!outputPath) throw new Error("usage: node onnx_run.js MODEL.onnx INPUTS.f32 DIMS OUTPUTS.f32");
  const dims = dimsText.split(",").map(Number);
  const perSample = dims.reduce((a, b) => a * b, 1);
  const bytes = fs.readFileSync(inputPath);
  const values = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const batch = values.length / perSample;
  if (!Number.isInteger(batch)) throw new Error(`${inputPath}: not a whole number of samples`);

  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: "all"});
  const [inputName] = session.inputNames;
  const [outputName] = session.outputNames;
  const run = async (start, count) => {
    const input = new ort.Tensor("float32", values.slice(start * perSample, (start + count) * perSample),
                                 [count, ...dims]);
    const result = await session.run({[inputName]: input});
    return result[outputName];
  };
  const all = await run(0, batch);
  if (all.dims[0] !== batch) throw new Error(`output batch ${all.dims[0]}, expected ${batch}`);
  const width = all.data.length / batch;
  for (let i = 0; i < Math.min(5, batch); ++i) {
    const single = await run(i, 1);
    for (let j = 0; j < width; ++j) {
      const difference = Math.abs(single.data[j] - all.data[i * width + j]);
      if (!(difference <= 1e-5)) {
        throw new Error(`sample ${i} alone differs from it in the batch by ${difference}`);
      }
    }
  }
  fs.writeFileSync(outputPath, Buffer.from(all.data.buffer, all.data.byteOffset, all.data.byteLength));
  console.log(`${inputName} [${batch}, ${dims}] -> ${outputName} [${all.dims}]`);
}

main().catch((error) => {
  console.error(`onnx_run.js: ${error.message}`);
  process.exit(1);
});
