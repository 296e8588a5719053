using Google.Protobuf;
using Reassure.Formats.Onnx.Proto;
using Reassure.Patching;
using Reassure.Repair;
using Reassure.Specifications;

namespace Reassure.Formats.Onnx;

/// <summary>A repaired ONNX file read back: its original network (as an <see cref="OnnxModel"/>), the repaired network in double, and the specification of each patch when stored.</summary>
public sealed record RepairedOnnxModel(OnnxModel Original, RepairedNetwork Repaired, IReadOnlyList<LinearSpecification?> Specs);

/// <summary>
/// Reads a file written by <see cref="RepairedOnnxExporter"/> as what it is: the graph ONNX Runtime runs.
/// <list type="number">
/// <item>The patch nodes and initializers (names under <see cref="RepairedOnnxExporter.Prefix"/>) are taken out and the
/// original output name restored; what is left is imported as the original network, from the file's own nodes.</item>
/// <item>The patches are read from the metadata (<see cref="RepairMetadata"/>) and the patch network is exported anew
/// onto that original graph.</item>
/// <item>The re-export must equal the file's graph node for node and tensor for tensor (protobuf equality of the whole
/// <c>GraphProto</c>: nodes, attributes, subgraphs, initializers, inputs, outputs) and carry the same operator sets.
/// Only then is the repaired network (in double) a faithful reading of the bytes that run, and every proof about it
/// a proof about the file.</item>
/// </list>
/// The metadata thus only names the patches; it never decides a verdict. A disagreement (metadata copied onto another
/// graph, patch nodes removed or edited, a patch weight or the metadata changed) and a file with only one of the two
/// are <see cref="ErrorCodes.RepairedGraphMismatch"/> (RSR1006). Files with neither are plain models: null.
/// </summary>
public static class RepairedOnnxImporter
{
    private const string OriginalOutput = RepairedOnnxExporter.Prefix + "original_output";

    /// <summary>Reads <paramref name="path"/>; null when it is not a repaired model.</summary>
    public static RepairedOnnxModel? TryLoad(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ReassureException(ErrorCodes.FileUnreadable, $"cannot read the ONNX file: {e.Message}", path, e);
        }
        return TryLoad(bytes, Path.GetFileName(path));
    }

    /// <summary>Whether the bytes are a repaired model (they carry repair metadata or patch nodes); parse errors are left to the importers.</summary>
    public static bool IsRepaired(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        try
        {
            var model = ModelProto.Parser.ParseFrom(bytes);
            return model.MetadataProps.Any(p => p.Key == RepairMetadata.Key) || (model.Graph is { } g && HasPatchNodes(g));
        }
        catch (InvalidProtocolBufferException)
        {
            return false;
        }
    }

    /// <summary>Reads repaired-model bytes; null when they carry neither repair metadata nor patch nodes.</summary>
    public static RepairedOnnxModel? TryLoad(byte[] bytes, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ModelProto file;
        try { file = ModelProto.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException e)
        {
            throw new ReassureException(ErrorCodes.OnnxMalformed, $"not a valid ONNX protobuf ModelProto ({bytes.Length} bytes): {e.Message}", sourceName, e);
        }
        var metas = file.MetadataProps.Where(p => p.Key == RepairMetadata.Key).ToList();
        bool patched = file.Graph is { } g0 && HasPatchNodes(g0);
        if (metas.Count == 0 && !patched) return null;
        if (file.MetadataProps.FirstOrDefault(p => p.Key == FeatureOnnxExporter.LayerKey) is { } layer)
            throw new ReassureException(ErrorCodes.RepairedModelUnsupported,
                $"the file is a feature-space repair (patches after tensor '{layer.Value}'); reading it back as a repaired model (eval, inspect, area, fair, localize, repair again) is not supported yet; check it in ONNX Runtime with `reassure verify --model FILE --rows ROWS.csv` or ML.NET's OnnxTransformer, or repair the original model again with all rows",
                sourceName);
        if (metas.Count == 0)
            throw Mismatch(sourceName, $"the graph carries Reassure patch nodes ('{RepairedOnnxExporter.Prefix}...') but no repair metadata '{RepairMetadata.Key}'; expected both, as `reassure repair` writes them");
        if (metas.Count > 1)
            throw Mismatch(sourceName, $"the file carries {metas.Count} repair metadata entries '{RepairMetadata.Key}'; expected one");
        if (!patched)
            throw Mismatch(sourceName, $"the file carries repair metadata '{RepairMetadata.Key}' but its graph has no patch network (no '{OriginalOutput}' tensor); the graph that runs is not the repaired model the metadata describes");

        // 1. The original network, from the file's own nodes.
        var stripped = file.Clone();
        var graph = stripped.Graph;
        string output = graph.Output.Count == 1 ? graph.Output[0].Name : throw Mismatch(sourceName, $"the repaired graph has {graph.Output.Count} outputs; expected one");
        var keep = new List<NodeProto>();
        var lifted = new List<TensorProto>();
        foreach (var node in graph.Node)
        {
            if (!node.Name.StartsWith(RepairedOnnxExporter.Prefix, StringComparison.Ordinal)) { keep.Add(node); continue; }
            // The screen's If holds the original's last layer in its else branch (the tail, ScreenedGate.TakeTail): its
            // nodes keep their own names there and write the original output; they go back to where the If was.
            if (node.OpType != "If" || node.Attribute.FirstOrDefault(a => a.Name == "else_branch")?.G is not { } closed) continue;
            var tail = closed.Node.Where(n => !n.Name.StartsWith(RepairedOnnxExporter.Prefix, StringComparison.Ordinal)).ToList();
            if (tail.Count == 0) continue;
            keep.AddRange(tail);
            lifted.AddRange(closed.Initializer);
        }
        graph.Node.Clear();
        graph.Node.AddRange(keep);
        foreach (var node in graph.Node)
        {
            for (int k = 0; k < node.Output.Count; k++) if (node.Output[k] == OriginalOutput) node.Output[k] = output;
            for (int k = 0; k < node.Input.Count; k++) if (node.Input[k] == OriginalOutput) node.Input[k] = output;
        }
        var inits = graph.Initializer.Where(t => !t.Name.StartsWith(RepairedOnnxExporter.Prefix, StringComparison.Ordinal)).ToList();
        graph.Initializer.Clear();
        graph.Initializer.AddRange(inits);
        graph.Initializer.AddRange(lifted);
        stripped.MetadataProps.Remove(stripped.MetadataProps.First(p => p.Key == RepairMetadata.Key));
        OnnxModel onnx;
        try { onnx = OnnxImporter.Load(stripped.ToByteArray(), sourceName); }
        catch (ReassureException e) when (e.Code != ErrorCodes.OnnxMalformed)
        {
            throw Mismatch(sourceName, $"the graph without its patch nodes is not the network a repair starts from ({e.Code}: {e.Detail})");
        }

        // 2. The patches named by the metadata, 3. exported anew and compared with the graph that runs.
        RepairedNetwork repaired;
        IReadOnlyList<LinearSpecification?> specs;
        try { (repaired, specs) = RepairMetadata.Read(metas[0].Value, onnx.Network, sourceName); }
        catch (ReassureException e) { throw Mismatch(sourceName, $"the repair metadata does not fit the graph's network: {e.Detail}"); }
        string? firstDifference = null;
        foreach (var candidate in Reexports(repaired, onnx, ScreenLevelsOf(file.Graph)))
        {
            var again = ModelProto.Parser.ParseFrom(candidate);
            firstDifference = Difference(again, file);
            if (firstDifference is null) return new RepairedOnnxModel(onnx, repaired, specs);
        }
        throw Mismatch(sourceName, $"the graph's patch network is not the one its repair metadata describes ({firstDifference}); " +
            "the file was changed after `reassure repair` wrote it. Repair the original model again, or verify the graph with `verify --rows`.");
    }

    /// <summary>
    /// The ways the exporter writes a repaired file: on the original file's graph, or rebuilt from the network (NNet
    /// sources); each with the screened gate (<see cref="ScreenedGate"/>) in the form written now or in one written
    /// before (<see cref="ScreenForm"/>), with the screen's levels the file has, or in the form written before the screen.
    /// </summary>
    private static IEnumerable<byte[]> Reexports(RepairedNetwork repaired, OnnxModel onnx, ScreenLevels levels)
    {
        foreach (var form in new[] { ScreenForm.Shared, ScreenForm.Merged, ScreenForm.Nested, ScreenForm.TailFlat, ScreenForm.IdentityElse })
        {
            yield return RepairedOnnxExporter.ToBytes(repaired, onnx, null, screened: true, levels, form);
            if (!repaired.Original.HasMaxPool) yield return RepairedOnnxExporter.ToBytes(repaired, null, screened: true, levels, form); // Gemm/Relu layers cannot hold a max pool
        }
        yield return RepairedOnnxExporter.ToBytes(repaired, onnx, null, screened: false);
        if (!repaired.Original.HasMaxPool) yield return RepairedOnnxExporter.ToBytes(repaired, null, screened: false);
    }

    /// <summary>
    /// The levels of a screened file's screen: two where its main graph holds a group screen, else one. Only which
    /// export to compare with follows from it; the comparison itself decides.
    /// </summary>
    private static ScreenLevels ScreenLevelsOf(GraphProto graph) =>
        graph.Initializer.Any(t => t.Name.StartsWith(RepairedOnnxExporter.Prefix + "groupscreen", StringComparison.Ordinal)) ? ScreenLevels.Two : ScreenLevels.One;

    private static bool HasPatchNodes(GraphProto graph) =>
        graph.Node.Any(n => n.Name.StartsWith(RepairedOnnxExporter.Prefix, StringComparison.Ordinal)
            || n.Output.Contains(OriginalOutput) || n.Input.Contains(OriginalOutput))
        || graph.Initializer.Any(t => t.Name.StartsWith(RepairedOnnxExporter.Prefix, StringComparison.Ordinal));

    /// <summary>Null when the graphs and operator sets are equal, else where they first differ.</summary>
    private static string? Difference(ModelProto expected, ModelProto actual)
    {
        var e = expected.Graph;
        var a = actual.Graph;
        if (!expected.OpsetImport.Equals(actual.OpsetImport)) return "operator sets differ";
        if (e.Equals(a)) return null;
        if (e.Node.Count != a.Node.Count) return $"{a.Node.Count} nodes, expected {e.Node.Count}";
        for (int n = 0; n < e.Node.Count; n++)
            if (!e.Node[n].Equals(a.Node[n])) return $"node {n} '{a.Node[n].Name}' ({a.Node[n].OpType}) differs";
        if (e.Initializer.Count != a.Initializer.Count) return $"{a.Initializer.Count} initializers, expected {e.Initializer.Count}";
        for (int t = 0; t < e.Initializer.Count; t++)
            if (!e.Initializer[t].Equals(a.Initializer[t])) return $"initializer '{a.Initializer[t].Name}' differs";
        return "graph inputs, outputs or value infos differ";
    }

    private static ReassureException Mismatch(string source, string message) => new(ErrorCodes.RepairedGraphMismatch, message, source);
}
