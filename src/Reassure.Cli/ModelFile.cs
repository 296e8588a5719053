using System.Globalization;
using Reassure.Formats.NNet;
using Reassure.Formats.Onnx;
using Reassure.Networks;

namespace Reassure.Cli;

/// <summary>
/// A model file read by extension: .onnx (ONNX) or .nnet (raw network, REASSURE semantics). An ONNX file with a
/// manifest beside it (R.manifest.json) must match the manifest's onnxSha256 (RSR1072, a torn pair).
/// </summary>
internal sealed record ModelFile(Network Network, string Format, string InputShape, string OutputShape, string Details)
{
    /// <summary>The ONNX file the network came from, when it did (the repaired export keeps its graph). For a repaired file: its original graph.</summary>
    public OnnxModel? Onnx { get; init; }

    /// <summary>
    /// For a repaired file (written by `repair` or `area`): its patches, read from the graph's own patch nodes as
    /// checked by <see cref="RepairedOnnxImporter"/>; <see cref="Network"/> is then the original network inside it.
    /// </summary>
    public RepairedOnnxModel? Repaired { get; init; }

    /// <summary>The output of the model the file holds (the repaired network for a repaired file), in double.</summary>
    public double[] Evaluate(double[] x) => Repaired is { } r ? r.Repaired.Evaluate(x) : Network.Evaluate(x);

    /// <summary>Outputs of a batch, in parallel.</summary>
    public double[][] EvaluateBatch(IReadOnlyList<double[]> xs) => Repaired is { } r ? r.Repaired.EvaluateBatch(xs) : Network.EvaluateBatch(xs);

    public static ModelFile Load(string path)
    {
        var ext = Path.GetExtension(path).ToLowerInvariant();
        switch (ext)
        {
            case ".onnx":
                {
                    Reassure.Repair.RepairManifest.CheckPair(path);
                    if (RepairedOnnxImporter.TryLoad(path) is { } r)
                    {
                        var o = r.Original;
                        return new ModelFile(o.Network, "ONNX", o.InputShape, o.OutputShape,
                            $"IR {o.IrVersion}, opset {o.OpsetVersion}; repaired: {r.Repaired.Patches.Count} patches (graph checked against its repair metadata)") { Onnx = o, Repaired = r };
                    }
                    var m = OnnxImporter.Load(path);
                    return new ModelFile(m.Network, "ONNX", m.InputShape, m.OutputShape, $"IR {m.IrVersion}, opset {m.OpsetVersion}") { Onnx = m };
                }
            case ".nnet":
                {
                    var m = NNetReader.Load(path);
                    static string F(double[] v) => string.Join(", ", v.Select(x => x.ToString("R", CultureInfo.InvariantCulture)));
                    return new ModelFile(m.Network, "NNet", $"{m.Network.InputSize}", $"{m.Network.OutputSize}",
                        $"raw network (no normalisation); means [{F(m.Means)}], ranges [{F(m.Ranges)}], min [{F(m.Minimums)}], max [{F(m.Maximums)}]");
                }
            default:
                throw new ReassureException(ErrorCodes.FileUnreadable, $"unknown model extension '{ext}'; expected .onnx or .nnet", path);
        }
    }
}
