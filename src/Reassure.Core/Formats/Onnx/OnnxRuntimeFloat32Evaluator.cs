using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Reassure.Patching;
using Reassure.Repair;

namespace Reassure.Formats.Onnx;

/// <summary>Runs the exported repaired graph in ONNX Runtime (CPU, float32): the soundness check's second opinion.</summary>
public sealed class OnnxRuntimeFloat32Evaluator : IFloat32Evaluator
{
    private readonly OnnxModel? _source;

    /// <summary>An evaluator of the graph the network is exported to: on <paramref name="source"/>'s graph when given.</summary>
    public OnnxRuntimeFloat32Evaluator(OnnxModel? source = null) => _source = source;

    /// <summary>The shared instance for networks not read from an ONNX file.</summary>
    public static OnnxRuntimeFloat32Evaluator Instance { get; } = new();

    /// <inheritdoc />
    public double[][] Evaluate(RepairedNetwork network, IReadOnlyList<double[]> inputs)
    {
        try
        {
            return EvaluateInRuntime(network, inputs);
        }
        catch (OnnxRuntimeException e)
        {
            throw RuntimeError(e, _source?.Source ?? "exported graph");
        }
    }

    /// <summary>
    /// RSR1008 for an ONNX Runtime failure on <paramref name="where"/> (a file or graph name): the runtime's message
    /// without ANSI escape sequences.
    /// </summary>
    public static ReassureException RuntimeError(Exception e, string where)
    {
        ArgumentNullException.ThrowIfNull(e);
        return new ReassureException(ErrorCodes.OnnxRuntimeFailed, $"ONNX Runtime cannot load or run the model: {StripAnsi(e.Message)}", where, e);
    }

    /// <summary><paramref name="text"/> without ANSI escape sequences (colours) and other control characters but tab and newline.</summary>
    public static string StripAnsi(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var plain = System.Text.RegularExpressions.Regex.Replace(text, @"\x1B(\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])", "");
        return new string(plain.Where(c => !char.IsControl(c) || c is '\n' or '\t').ToArray()).Trim();
    }

    private double[][] EvaluateInRuntime(RepairedNetwork network, IReadOnlyList<double[]> inputs)
    {
        if (_source is null || !ReferenceEquals(_source.Network, network.Original))
        {
            using var plain = new InferenceSession(RepairedOnnxExporter.ToBytes(network));
            return Run(plain, network.Original.InputName, network.Original.InputSize, inputs);
        }
        using var session = new InferenceSession(RepairedOnnxExporter.ToBytes(network, _source));
        return Run(session, _source, inputs);
    }

    /// <summary>
    /// Runs a session made from <paramref name="model"/>'s graph: batched when the first input dimension is
    /// symbolic, else one row at a time in the declared shape (VNN-COMP files take [1,1,1,5] or [1,784,1]).
    /// </summary>
    public static double[][] Run(InferenceSession session, OnnxModel model, IReadOnlyList<double[]> inputs)
    {
        var dims = model.InputShape.Split(',');
        if (dims.Length > 0 && !long.TryParse(dims[0], out _))
        {
            if (dims.Length <= 2) return Run(session, model.InputName, model.Network.InputSize, inputs);
            // A symbolic batch before image dims (e.g. NHWC [N, 32, 32, 3]): one call per 1024 rows in that shape.
            var sample = dims[1..].Select(d => int.TryParse(d, out var v) ? v : 1).ToArray();
            return RunBatched(session, model.InputName, sample, inputs);
        }
        var shape = dims.Select(d => int.TryParse(d, out var v) ? v : 1).ToArray();
        var outputs = new double[inputs.Count][];
        for (int r = 0; r < inputs.Count; r++)
        {
            var data = inputs[r].Select(v => (float)v).ToArray();
            var tensor = new DenseTensor<float>(data, shape);
            using var results = session.Run([NamedOnnxValue.CreateFromTensor(model.InputName, tensor)]);
            outputs[r] = results.First().AsTensor<float>().Select(v => (double)v).ToArray();
        }
        return outputs;
    }

    /// <summary>Runs a session with one [N, n] float input and returns its first output as doubles.</summary>
    public static double[][] Run(InferenceSession session, string inputName, int width, IReadOnlyList<double[]> inputs) =>
        RunBatched(session, inputName, [width], inputs);

    /// <summary>Runs a session with one [N, sample...] float input (rows flattened row-major) and returns its first output as doubles.</summary>
    private static double[][] RunBatched(InferenceSession session, string inputName, int[] sample, IReadOnlyList<double[]> inputs)
    {
        int width = sample.Aggregate(1, (a, d) => a * d);
        var outputs = new double[inputs.Count][];
        const int batch = 1024;
        for (int start = 0; start < inputs.Count; start += batch)
        {
            int count = Math.Min(batch, inputs.Count - start);
            var data = new float[count * width];
            for (int r = 0; r < count; r++)
                for (int i = 0; i < width; i++) data[r * width + i] = (float)inputs[start + r][i];
            var tensor = new DenseTensor<float>(data, [count, .. sample]);
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
