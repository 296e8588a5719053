using Microsoft.ML.OnnxRuntime;

namespace Reassure.Tests.Formats;

/// <summary>Runs an ONNX model in ONNX Runtime (CPU, float32), batching when the batch dim is symbolic, else one row per call.</summary>
internal static class OrtRunner
{
    public static float[][] Run(byte[] model, IReadOnlyList<double[]> inputs)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        var (inName, inMeta) = session.InputMetadata.Single();
        var outName = session.OutputMetadata.Keys.Single();
        var dims = inMeta.Dimensions.Select(d => (long)d).ToArray();
        int width = inputs[0].Length;
        using var run = new RunOptions();
        var result = new float[inputs.Count][];
        if (dims[0] < 0)
        {
            // symbolic batch: one call
            var data = new float[inputs.Count * width];
            for (int r = 0; r < inputs.Count; r++)
                for (int i = 0; i < width; i++) data[r * width + i] = (float)inputs[r][i];
            dims[0] = inputs.Count;
            using var x = OrtValue.CreateTensorValueFromMemory(data, dims);
            using var outputs = session.Run(run, [inName], [x], [outName]);
            var y = outputs[0].GetTensorDataAsSpan<float>();
            int m = y.Length / inputs.Count;
            for (int r = 0; r < inputs.Count; r++) result[r] = y.Slice(r * m, m).ToArray();
            return result;
        }
        for (int r = 0; r < inputs.Count; r++)
        {
            var data = inputs[r].Select(v => (float)v).ToArray();
            using var x = OrtValue.CreateTensorValueFromMemory(data, dims);
            using var outputs = session.Run(run, [inName], [x], [outName]);
            result[r] = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        }
        return result;
    }
}
