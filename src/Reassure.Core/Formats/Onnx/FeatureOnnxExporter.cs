using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Reassure.Formats.Onnx.Proto;
using Reassure.Networks;
using Reassure.Patching;
using Reassure.Repair;
using Reassure.Specifications;

namespace Reassure.Formats.Onnx;

/// <summary>
/// Exports a feature-space repair (method.md §13): the original file's graph, every node kept as it was, with the patch
/// network of the suffix (<see cref="PatchGraph"/>) reading the split tensor u (flattened to <c>[N, d]</c>) and the
/// suffix's own pre-activation tensors, and adding its correction to the original output (renamed). Outside every
/// support ONNX Runtime computes the original output exactly. The metadata holds the suffix's patches
/// (<see cref="RepairMetadata"/>, domain = the feature box) and the split tensor under <see cref="LayerKey"/>.
/// </summary>
public static class FeatureOnnxExporter
{
    /// <summary>Metadata key naming the tensor the patches read.</summary>
    public const string LayerKey = "reassure.layer";

    /// <summary>
    /// The repaired model as ONNX bytes; <paramref name="inputName"/> and <paramref name="outputName"/> rename the graph
    /// input and output (ML.NET binds columns by name), RSR1060 when another tensor already has that name.
    /// </summary>
    public static byte[] ToBytes(OnnxFeatureSplit split, RepairedNetwork suffix, IReadOnlyList<LinearSpecification?>? specs = null,
        string? inputName = null, string? outputName = null)
    {
        ArgumentNullException.ThrowIfNull(split);
        ArgumentNullException.ThrowIfNull(suffix);
        var source = split.Model;
        var layers = suffix.Original.Layers;
        var pre = layers.Take(layers.Count - 1).Select(l => l.Names.PreActivation).ToList();
        // Pattern supports read the suffix's own pre-activation tensors; box-only supports (an affine suffix, rewritten
        // with a hidden layer for the repair) read only the features.
        bool patterns = suffix.Patches.Any(p => p.Support.Pattern is not null);
        if (suffix.Original.InputSize != split.Split.FeatureSize || suffix.Original.OutputSize != split.Split.Suffix.OutputSize
            || patterns && (!ReferenceEquals(suffix.Original, split.Split.Suffix) || pre.Any(p => p is null)))
            throw new ArgumentException("The repaired network is not the suffix of this split.", nameof(suffix));
        var model = source.Proto.Clone();
        var graph = model.Graph;
        OpsetUpgrade.To13(graph, source.OpsetVersion); // the patch operators need opset 13; older nodes are rewritten to mean the same under it
        var b = new OnnxBuilder(graph, RepairedOnnxExporter.Prefix);
        // The patch is added to the network's output: the graph output, or the scores a stripped trailing Softmax reads
        // (then the Softmax reads the repaired scores, so the file still ends in it).
        string output = source.LogitsName;
        bool stripped = source.StrippedOutputOperator is not null;
        string original = RepairedOnnxExporter.Prefix + "original_output";
        foreach (var node in graph.Node)
        {
            for (int k = 0; k < node.Output.Count; k++) if (node.Output[k] == output) node.Output[k] = original;
            if (stripped) continue;
            for (int k = 0; k < node.Input.Count; k++) if (node.Input[k] == output) node.Input[k] = original;
        }
        Rename(graph, source.InputName, inputName, "input");
        if (suffix.Patches.Count == 0)
        {
            b.Node("Identity", [original], output);
        }
        else
        {
            string u = b.Node("Flatten", [split.Split.Tensor], null, OnnxBuilder.Int("axis", 1)); // [N, d]
            // A structured layer's pre-activation is an image [N, C, H, W]: flattened row-major it is the layer's neuron order.
            var flat = patterns ? pre.Select((p, l) => layers[l].IsDense ? p! : b.Node("Flatten", [p!], null, OnnxBuilder.Int("axis", 1))).ToList() : [];
            PatchGraph.Add(b, suffix, u, flat, original, output);
        }
        Rename(graph, graph.Output[0].Name, outputName, "output");
        model.IrVersion = Math.Max(model.IrVersion, 7);
        var opset = model.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx");
        if (opset is null) model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        else opset.Version = Math.Max(opset.Version, 13);
        model.ProducerName = "Reassure.MLNet";
        foreach (var p in model.MetadataProps.Where(p => p.Key is RepairMetadata.Key or LayerKey).ToList()) model.MetadataProps.Remove(p);
        model.MetadataProps.Add(new StringStringEntryProto { Key = RepairMetadata.Key, Value = RepairMetadata.Write(suffix, specs) });
        model.MetadataProps.Add(new StringStringEntryProto { Key = LayerKey, Value = split.Split.Tensor });
        return model.ToByteArray();
    }

    private static HashSet<string> Names(GraphProto graph) =>
        new(graph.Node.SelectMany(n => n.Input.Concat(n.Output)).Concat(graph.Initializer.Select(t => t.Name)).Concat(graph.Input.Select(i => i.Name)), StringComparer.Ordinal);

    /// <summary>Renames tensor <paramref name="from"/> (a graph input or output) everywhere; RSR1060 when <paramref name="to"/> is taken.</summary>
    private static void Rename(GraphProto graph, string from, string? to, string what)
    {
        if (to is null || to == from) return;
        if (Names(graph).Contains(to))
            throw new ReassureException(ErrorCodes.InvalidOption, $"a tensor of the graph is already named '{to}'; expected a new name for the {what}", $"{what} name");
        foreach (var i in graph.Input) if (i.Name == from) i.Name = to;
        foreach (var o in graph.Output) if (o.Name == from) o.Name = to;
        foreach (var node in graph.Node)
        {
            for (int k = 0; k < node.Input.Count; k++) if (node.Input[k] == from) node.Input[k] = to;
            for (int k = 0; k < node.Output.Count; k++) if (node.Output[k] == from) node.Output[k] = to;
        }
    }

    /// <summary>Writes the repaired model to <paramref name="path"/> atomically.</summary>
    public static void Save(OnnxFeatureSplit split, RepairedNetwork suffix, string path, IReadOnlyList<LinearSpecification?>? specs = null) =>
        AtomicFile.WriteAllBytes(path, ToBytes(split, suffix, specs));
}

/// <summary>Runs the exported feature-space repair (<see cref="FeatureOnnxExporter"/>) in ONNX Runtime (CPU, float32) on network inputs.</summary>
public sealed class OnnxFeatureFloat32Evaluator(OnnxFeatureSplit split) : IFeatureFloat32Evaluator
{
    /// <inheritdoc />
    public double[][] Evaluate(FeatureSplit featureSplit, RepairedNetwork suffix, IReadOnlyList<double[]> inputs)
    {
        ArgumentNullException.ThrowIfNull(suffix);
        if (!ReferenceEquals(featureSplit, split.Split)) throw new ArgumentException("Another split than this evaluator's.", nameof(featureSplit));
        try
        {
            using var session = new InferenceSession(FeatureOnnxExporter.ToBytes(split, suffix));
            return OnnxRuntimeFloat32Evaluator.Run(session, split.Model, inputs);
        }
        catch (OnnxRuntimeException e)
        {
            throw OnnxRuntimeFloat32Evaluator.RuntimeError(e, split.Model.Source);
        }
    }
}
