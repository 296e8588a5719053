using Google.Protobuf;
using Reassure.Formats.Onnx.Proto;
using Reassure.Patching;
using Reassure.Specifications;

namespace Reassure.Formats.Onnx;

/// <summary>
/// Exports a repaired network as standard ONNX (opset 13, no custom operators): the original path
/// (Gemm/Relu) untouched, plus the patch network of <see cref="PatchGraph"/> added to the output at the end.
/// </summary>
public static class RepairedOnnxExporter
{
    /// <summary>Prefix of every tensor the patch network adds.</summary>
    public const string Prefix = "reassure/";

    /// <summary>
    /// The repaired network as ONNX bytes, the original network written as Gemm/Relu with a symbolic batch.
    /// <paramref name="specs"/> (per patch, optional) are stored with the patches in the file's metadata.
    /// </summary>
    public static byte[] ToBytes(RepairedNetwork network, IReadOnlyList<Reassure.Specifications.LinearSpecification?>? specs = null) =>
        ToBytes(network, specs, screened: true);

    /// <summary>
    /// As <see cref="ToBytes(RepairedNetwork, IReadOnlyList{Reassure.Specifications.LinearSpecification?})"/>; with
    /// <paramref name="screened"/> false, the form written before the screen (<see cref="ScreenedGate"/>), which
    /// <see cref="RepairedOnnxImporter"/> still reads.
    /// </summary>
    /// <param name="network">The repaired network.</param>
    /// <param name="specs">Per patch, optional.</param>
    /// <param name="screened">Whether the screen is written (<see cref="ScreenedGate"/>).</param>
    /// <param name="levels">The screen's levels.</param>
    /// <param name="form">The screened form (<see cref="ScreenForm"/>): the one written now, or one written before, which the importer still reads.</param>
    /// <param name="groupCount">The screen's first-level group count (<see cref="ScreenedGate.GroupCount"/> by default; benchmarks try others).</param>
    internal static byte[] ToBytes(RepairedNetwork network, IReadOnlyList<Reassure.Specifications.LinearSpecification?>? specs, bool screened, ScreenLevels levels = ScreenLevels.Auto, ScreenForm form = ScreenForm.Shared, int? groupCount = null)
    {
        var net = network.Original;
        net.RequireNoMaxPool("writing the repaired network as Gemm/Relu layers (without the original ONNX graph)");
        var graph = new GraphProto { Name = "reassure_repaired" };
        var b = new OnnxBuilder(graph, Prefix);
        var net_ = new OnnxBuilder(graph, "net/");
        string current = net.InputName;
        var pre = new List<string>();
        string? firstActivation = null;
        string original = Prefix + "original_output";
        for (int l = 0; l < net.Layers.Count; l++)
        {
            var layer = net.Layers[l];
            string w = net_.Constant($"w{l}", layer.Weights, layer.Outputs, layer.Inputs);
            string bias = net_.Constant($"b{l}", layer.Bias, layer.Outputs);
            bool last = l == net.Layers.Count - 1;
            string z = net_.Node("Gemm", [current, w, bias], last ? original : null, OnnxBuilder.Int("transB", 1));
            if (last) break;
            pre.Add(z);
            current = net_.Node("Relu", [z]);
            firstActivation ??= current;
        }
        graph.Input.Add(OnnxBuilder.FloatInfo(net.InputName, "N", net.InputSize));
        graph.Output.Add(OnnxBuilder.FloatInfo(net.OutputName, "N", net.OutputSize));
        if (network.Patches.Count == 0)
        {
            b.Node("Identity", [original], net.OutputName);
        }
        else if (screened && ScreenedGate.Applies(network, firstActivation))
        {
            var copied = graph.Node.Take(graph.Node.Count - 1).ToList(); // every node but the output layer's Gemm
            var tail = form != ScreenForm.IdentityElse ? ScreenedGate.TakeTail(graph, current, original) : null;
            ScreenedGate.Add(b, network, net.InputName, copied, pre, firstActivation!, flatten: false, original, net.OutputName, levels, tail, form, groupCount);
        }
        else
        {
            PatchGraph.Add(b, network, net.InputName, pre, original, net.OutputName);
        }
        var model = new ModelProto { IrVersion = 7, ProducerName = "Reassure.MLNet", ProducerVersion = "1.0", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        model.MetadataProps.Add(new StringStringEntryProto { Key = RepairMetadata.Key, Value = RepairMetadata.Write(network, specs) });
        return model.ToByteArray();
    }

    /// <summary>
    /// The repaired network as ONNX bytes built on the original file's graph: every original node is kept as it was
    /// (so outside every support ONNX Runtime computes exactly the original output), the original output tensor is
    /// renamed, and the patch network reads the original's own pre-activation tensors. The opset is raised to 13
    /// (IR 7) for the patch operators; the original operators used here mean the same under it.
    /// Falls back to <see cref="ToBytes(RepairedNetwork, IReadOnlyList{Reassure.Specifications.LinearSpecification?})"/> when the file's tensors do not carry the layer names.
    /// </summary>
    public static byte[] ToBytes(RepairedNetwork network, OnnxModel source, IReadOnlyList<Reassure.Specifications.LinearSpecification?>? specs = null) =>
        ToBytes(network, source, specs, screened: true);

    /// <summary>As <see cref="ToBytes(RepairedNetwork, OnnxModel, IReadOnlyList{Reassure.Specifications.LinearSpecification?})"/>; with <paramref name="screened"/> false, the form written before the screen.</summary>
    internal static byte[] ToBytes(RepairedNetwork network, OnnxModel source, IReadOnlyList<Reassure.Specifications.LinearSpecification?>? specs, bool screened, ScreenLevels levels = ScreenLevels.Auto, ScreenForm form = ScreenForm.Shared, int? groupCount = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        var layers = network.Original.Layers;
        var pre = layers.Take(layers.Count - 1).Select(l => l.Names.PreActivation).ToList();
        if (pre.Any(p => p is null) || !ReferenceEquals(network.Original, source.Network)) return ToBytes(network, specs, screened, levels, form, groupCount);
        var model = source.Proto.Clone();
        var graph = model.Graph;
        OpsetUpgrade.To13(graph, source.OpsetVersion); // the patch operators need opset 13; older nodes are rewritten to mean the same under it
        var b = new OnnxBuilder(graph, Prefix);
        string original = Prefix + "original_output";
        // The patch is added to the network's output: the graph output, or the scores a stripped trailing Softmax reads
        // (then the Softmax reads the repaired scores, so the file still ends in it).
        string output = source.LogitsName;
        bool stripped = source.StrippedOutputOperator is not null;
        foreach (var node in graph.Node)
        {
            for (int k = 0; k < node.Output.Count; k++) if (node.Output[k] == output) node.Output[k] = original;
            if (stripped) continue;
            for (int k = 0; k < node.Input.Count; k++) if (node.Input[k] == output) node.Input[k] = original;
        }
        if (network.Patches.Count == 0)
        {
            b.Node("Identity", [original], output);
        }
        else if (screened && ScreenedGate.Applies(network, layers[0].Names.Activation) && LastProducer(graph, pre[^1]!) is int last and >= 0)
        {
            // The original nodes up to the last pre-activation, copied into the screen's then branch.
            var copied = graph.Node.Take(last + 1).ToList();
            var tail = form != ScreenForm.IdentityElse && layers[^2].Names.Activation is { } lastActivation ? ScreenedGate.TakeTail(graph, lastActivation, original) : null;
            ScreenedGate.Add(b, network, source.InputName, copied, pre!, layers[0].Names.Activation!, flatten: true, original, output, levels, tail, form, groupCount);
        }
        else
        {
            string x = b.Node("Flatten", [source.InputName], null, OnnxBuilder.Int("axis", 1));
            // A structured layer's pre-activation is an image [N, C, H, W]: flattened row-major it is the layer's
            // neuron order (the order of its map's rows).
            var flat = pre.Select((p, l) => layers[l].IsDense ? p! : b.Node("Flatten", [p!], null, OnnxBuilder.Int("axis", 1))).ToList();
            PatchGraph.Add(b, network, x, flat, original, output);
        }
        model.IrVersion = Math.Max(model.IrVersion, 7);
        var opset = model.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx");
        if (opset is null) model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        else opset.Version = Math.Max(opset.Version, 13);
        model.ProducerName = "Reassure.MLNet";
        var stale = model.MetadataProps.Where(p => p.Key == RepairMetadata.Key).ToList();
        foreach (var p in stale) model.MetadataProps.Remove(p);
        model.MetadataProps.Add(new StringStringEntryProto { Key = RepairMetadata.Key, Value = RepairMetadata.Write(network, specs) });
        return model.ToByteArray();
    }

    /// <summary>Index of the node that writes <paramref name="tensor"/>, or -1.</summary>
    private static int LastProducer(GraphProto graph, string tensor)
    {
        for (int n = graph.Node.Count - 1; n >= 0; n--) if (graph.Node[n].Output.Contains(tensor)) return n;
        return -1;
    }
}
