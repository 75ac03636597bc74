// ONNX Runtime (onnxruntime-node) on an mlc ONNX variant, for bench/variants.py.
//
// usage: node onnx_latency.js MODEL.onnx IMAGES.f32 DIMS LOGITS.f32
// Runs every sample of IMAGES.f32 (float32 [n, DIMS...]) in batches of 1024 and writes the
// outputs to LOGITS.f32; then, with one intra-op thread, the median milliseconds per sample of
// session.run() at batch 1 (200 runs) and 64 (20 runs) after 5 warm-up runs, each run on the next
// samples, as mlc measures its TorchScript variants. Prints {"batch1_ms": .., "batch64_ms": ..}.
"use strict";
const fs = require("fs");
const ort = require("onnxruntime-node");

async function main() {
  const [modelPath, inputPath, dimsText, outputPath] = process.argv.slice(2);
  const dims = dimsText.split(",").map(Number);
  const perSample = dims.reduce((a, b) => a * b, 1);
  const bytes = fs.readFileSync(inputPath);
  const values = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const count = values.length / perSample;
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: "all"});
  const [inputName] = session.inputNames;
  const [outputName] = session.outputNames;
  const batchOf = (start, size) => {
    const rows = new Float32Array(size * perSample);
    for (let i = 0; i < size; ++i) {
      const row = (start + i) % count;
      rows.set(values.subarray(row * perSample, (row + 1) * perSample), i * perSample);
    }
    return new ort.Tensor("float32", rows, [size, ...dims]);
  };
  const outputs = [];
  for (let start = 0; start < count; start += 1024) {
    const size = Math.min(1024, count - start);
    outputs.push((await session.run({[inputName]: batchOf(start, size)}))[outputName].data);
  }
  const total = outputs.reduce((n, o) => n + o.length, 0);
  const all = new Float32Array(total);
  let offset = 0;
  for (const o of outputs) { all.set(o, offset); offset += o.length; }
  fs.writeFileSync(outputPath, Buffer.from(all.buffer));

  const latency = async (batch, runs) => {
    const times = [];
    for (let run = 0; run < 5 + runs; ++run) {
      const input = batchOf(run * batch, batch);
      const began = process.hrtime.bigint();
      await session.run({[inputName]: input});
      const took = Number(process.hrtime.bigint() - began) / 1e6;
      if (run >= 5) times.push(took / batch);
    }
    times.sort((a, b) => a - b);
    const middle = Math.floor(times.length / 2);
    return times.length % 2 ? times[middle] : (times[middle - 1] + times[middle]) / 2;
  };
  console.log(JSON.stringify({batch1_ms: await latency(1, 200), batch64_ms: await latency(64, 20)}));
}

main().catch((error) => {
  console.error(`onnx_latency.js: ${error.message}`);
  process.exit(1);
});
