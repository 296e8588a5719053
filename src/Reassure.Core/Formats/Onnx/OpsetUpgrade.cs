using System.Buffers.Binary;
using Google.Protobuf;
using Reassure.Formats.Onnx.Proto;

namespace Reassure.Formats.Onnx;

/// <summary>
/// Rewrites the nodes of an older graph to their opset-13 form, so that the repaired file (whose patch operators need
/// opset 13) keeps every original node with the same meaning. Only the operators the importer reads change form between
/// their opset and 13: Pad (pads and value attributes before 11 become inputs), Squeeze and Unsqueeze (axes attribute
/// before 13 becomes an input), Reshape (shape attribute before 5 becomes an input) and Dropout (ratio before 12 and
/// is_test before 7 become inputs or go: at inference the ratio is unused). The others (Gemm, MatMul, Add, Conv, pools,
/// Relu, Flatten, Transpose, BatchNormalization, a trailing Softmax over [batch, classes]) mean the same under 13.
/// </summary>
internal static class OpsetUpgrade
{
    /// <summary>Upgrades <paramref name="graph"/> (read with default-domain opset <paramref name="from"/>) in place.</summary>
    public static void To13(GraphProto graph, long from)
    {
        if (from >= 13) return;
        int k = 0;
        string NewName(string what)
        {
            var used = new HashSet<string>(graph.Initializer.Select(t => t.Name).Concat(graph.Node.SelectMany(n => n.Output)), StringComparer.Ordinal);
            string name;
            do name = $"opset13/{what}{k++}"; while (used.Contains(name)); // part of the original graph (not the patch network: no reassure/ prefix)
            return name;
        }
        string Int64s(string what, IEnumerable<long> values)
        {
            var t = new TensorProto { Name = NewName(what), DataType = (int)TensorProto.Types.DataType.Int64 };
            var v = values.ToArray();
            t.Dims.Add(v.Length);
            t.Int64Data.Add(v);
            graph.Initializer.Add(t);
            return t.Name;
        }
        string Float(string what, float value)
        {
            var bytes = new byte[4];
            BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
            var t = new TensorProto { Name = NewName(what), DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(bytes) };
            graph.Initializer.Add(t);
            return t.Name;
        }
        foreach (var node in graph.Node)
        {
            if (node.Domain is not ("" or "ai.onnx")) continue;
            var attr = node.Attribute.ToDictionary(a => a.Name, StringComparer.Ordinal);
            switch (node.OpType)
            {
                case "Pad" when from < 11 && attr.TryGetValue("pads", out var pads):
                    node.Attribute.Remove(pads);
                    while (node.Input.Count > 1) node.Input.RemoveAt(node.Input.Count - 1);
                    node.Input.Add(Int64s("pads", pads.Ints));
                    if (attr.TryGetValue("value", out var value))
                    {
                        node.Attribute.Remove(value);
                        node.Input.Add(Float("value", value.F));
                    }
                    break;
                case "Squeeze" or "Unsqueeze" when attr.TryGetValue("axes", out var axes):
                    node.Attribute.Remove(axes);
                    node.Input.Add(Int64s("axes", axes.Ints));
                    break;
                case "Reshape" when from < 5 && attr.TryGetValue("shape", out var shape):
                    node.Attribute.Remove(shape);
                    node.Input.Add(Int64s("shape", shape.Ints));
                    break;
                case "Dropout":
                    foreach (var name in new[] { "ratio", "is_test", "spatial" })
                        if (attr.TryGetValue(name, out var a)) node.Attribute.Remove(a);
                    break;
            }
        }
    }
}
