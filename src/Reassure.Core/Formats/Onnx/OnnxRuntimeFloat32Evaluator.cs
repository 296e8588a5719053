using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Reassure.Patching;
using Reassure.Repair;

namespace Reassure.Formats.Onnx;

/// <summary>Runs the exported repaired graph in ONNX Runtime (CPU, float32): the soundness check's second opinion.</summary>
public sealed class OnnxRuntimeFloat32Evaluator : IFloat32Evaluator
{
    /// <summary>The shared instance.</summary>
    public static OnnxRuntimeFloat32Evaluator Instance { get; } = new();

    /// <inheritdoc />
    public double[][] Evaluate(RepairedNetwork network, IReadOnlyList<double[]> inputs)
    {
        using var session = new InferenceSession(RepairedOnnxExporter.ToBytes(network));
        return Run(session, network.Original.InputName, network.Original.InputSize, inputs);
    }

    /// <summary>Runs a session with one [N, n] float input and returns its first output as doubles.</summary>
    public static double[][] Run(InferenceSession session, string inputName, int width, IReadOnlyList<double[]> inputs)
    {
        var outputs = new double[inputs.Count][];
        const int batch = 1024;
        for (int start = 0; start < inputs.Count; start += batch)
        {
            int count = Math.Min(batch, inputs.Count - start);
            var data = new float[count * width];
            for (int r = 0; r < count; r++)
                for (int i = 0; i < width; i++) data[r * width + i] = (float)inputs[start + r][i];
            var tensor = new DenseTensor<float>(data, [count, width]);
            using var results = session.Run([NamedOnnxValue.CreateFromTensor(inputName, tensor)]);
            var y = results.First().AsTensor<float>();
            int m = (int)(y.Length / count);
            for (int r = 0; r < count; r++)
            {
                outputs[start + r] = new double[m];
                for (int o = 0; o < m; o++) outputs[start + r][o] = y[r, o];
            }
        }
        return outputs;
    }
}
