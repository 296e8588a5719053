using Google.Protobuf;
using Reassure.Formats.Onnx.Proto;
using Reassure.Patching;
using Reassure.Repair;

namespace Reassure.Formats.Onnx;

/// <summary>A repaired ONNX file read back: its original network (as an <see cref="OnnxModel"/>), the repaired network in double, and the specification of each patch when stored.</summary>
public sealed record RepairedOnnxModel(OnnxModel Original, RepairedNetwork Repaired, IReadOnlyList<LinearSpecification?> Specs);

/// <summary>
/// Reads a file written by <see cref="RepairedOnnxExporter"/>: the patch nodes and initializers (names under
/// <see cref="RepairedOnnxExporter.Prefix"/>) are taken out, the original output name restored, the original network
/// imported as usual, and the patches rebuilt from the metadata. Files without the metadata give null.
/// </summary>
public static class RepairedOnnxImporter
{
    /// <summary>Reads <paramref name="path"/>; null when it is not a repaired model.</summary>
    public static RepairedOnnxModel? TryLoad(string path)
    {
        if (!File.Exists(path)) throw new ReassureException(ErrorCodes.FileUnreadable, "the model file does not exist", path);
        return TryLoad(File.ReadAllBytes(path), Path.GetFileName(path));
    }

    /// <summary>Reads repaired-model bytes; null when they carry no repair metadata.</summary>
    public static RepairedOnnxModel? TryLoad(byte[] bytes, string sourceName)
    {
        ModelProto model;
        try { model = ModelProto.Parser.ParseFrom(bytes); }
        catch (InvalidProtocolBufferException e)
        {
            throw new ReassureException(ErrorCodes.OnnxMalformed, $"not a valid ONNX protobuf ModelProto: {e.Message}", sourceName, e);
        }
        var meta = model.MetadataProps.FirstOrDefault(p => p.Key == RepairMetadata.Key);
        if (meta is null || model.Graph is null) return null;
        var graph = model.Graph;
        string output = graph.Output.Count > 0 ? graph.Output[0].Name : throw new ReassureException(ErrorCodes.OnnxUnsupportedGraph, "the repaired graph has no output", sourceName);
        string original = RepairedOnnxExporter.Prefix + "original_output";
        var keep = graph.Node.Where(n => !n.Name.StartsWith(RepairedOnnxExporter.Prefix, StringComparison.Ordinal)).ToList();
        graph.Node.Clear();
        graph.Node.AddRange(keep);
        foreach (var node in graph.Node)
        {
            for (int k = 0; k < node.Output.Count; k++) if (node.Output[k] == original) node.Output[k] = output;
            for (int k = 0; k < node.Input.Count; k++) if (node.Input[k] == original) node.Input[k] = output;
        }
        var inits = graph.Initializer.Where(t => !t.Name.StartsWith(RepairedOnnxExporter.Prefix, StringComparison.Ordinal)).ToList();
        graph.Initializer.Clear();
        graph.Initializer.AddRange(inits);
        model.MetadataProps.Remove(meta);
        var onnx = OnnxImporter.Load(model.ToByteArray(), sourceName);
        var (repaired, specs) = RepairMetadata.Read(meta.Value, onnx.Network, sourceName);
        return new RepairedOnnxModel(onnx, repaired, specs);
    }
}
