using System.Text;

namespace Reassure.MLNet;

/// <summary>
/// Adds a predicted-label output to an ONNX model written by the engine's exporter: <c>ArgMax(score, axis 1,
/// keepdims 0)</c>, an int64 tensor <c>[N]</c>. ML.NET's <c>OnnxTransformer</c> exposes it as a one-slot vector of
/// <c>Int64</c>: ML.NET 5.0.1 cannot read rank-0 (scalar) ONNX outputs (its object getter calls <c>AsEnumerable</c> on
/// the tensor and throws), so a scalar output is not an option.
/// </summary>
/// <remarks>
/// Protobuf parsers merge a message that appears twice in one buffer, and append to its repeated fields. So the
/// extra node, initializer and output are written as a second <c>ModelProto.graph</c> (field 7) after the exporter's
/// bytes; ONNX Runtime and ML.NET read them as part of the same graph. This is a few fields written by hand, not a
/// second ONNX writer: the model itself comes from <c>RepairedOnnxExporter</c>.
/// </remarks>
internal static class ArgMaxAppender
{
    /// <summary>ONNX TensorProto.DataType of int64.</summary>
    public const int Int64Type = 7;
    private const int AttributeInt = 2;

    /// <summary>
    /// <paramref name="model"/> with output <paramref name="labelOutput"/> = argmax of <paramref name="scoreOutput"/>, as
    /// ONNX element type <paramref name="elementType"/> (int64, or an integer type reached by a <c>Cast</c> node: ML.NET's
    /// ConvertType has no conversion from Int64 to the unsigned kinds, ONNX's Cast has).
    /// </summary>
    public static byte[] Append(byte[] model, string scoreOutput, string labelOutput, int elementType = Int64Type)
    {
        string argMaxOut = elementType == Int64Type ? labelOutput : "reassure/argmax_int64";
        var argMaxNode = Message(w =>
        {
            w.String(1, scoreOutput);
            w.String(2, argMaxOut);
            w.String(3, "reassure/ArgMax");
            w.String(4, "ArgMax");
            w.Bytes(5, Message(a => { a.String(1, "axis"); a.Varint(3, 1); a.Varint(20, AttributeInt); }));
            w.Bytes(5, Message(a => { a.String(1, "keepdims"); a.Varint(3, 0); a.Varint(20, AttributeInt); }));
        });
        var castNode = Message(w =>
        {
            w.String(1, argMaxOut);
            w.String(2, labelOutput);
            w.String(3, "reassure/CastLabel");
            w.String(4, "Cast");
            w.Bytes(5, Message(a => { a.String(1, "to"); a.Varint(3, (ulong)elementType); a.Varint(20, AttributeInt); }));
        });
        // ValueInfo: tensor [N] of the label's type.
        var output = Message(v =>
        {
            v.String(1, labelOutput);
            v.Bytes(2, Message(tp => tp.Bytes(1, Message(tt =>
            {
                tt.Varint(1, (ulong)elementType);
                tt.Bytes(2, Message(shape => shape.Bytes(1, Message(d => d.String(2, "N")))));
            }))));
        });
        var graph = Message(g =>
        {
            g.Bytes(1, argMaxNode);
            if (elementType != Int64Type) g.Bytes(1, castNode);
            g.Bytes(12, output);
        });
        var tail = Message(m => m.Bytes(7, graph));
        var result = new byte[model.Length + tail.Length];
        model.CopyTo(result, 0);
        tail.CopyTo(result, model.Length);
        return result;
    }

    private static byte[] Message(Action<Writer> write)
    {
        var w = new Writer();
        write(w);
        return w.ToArray();
    }

    private sealed class Writer
    {
        private readonly MemoryStream _stream = new();

        public void Varint(int field, ulong value)
        {
            Raw((ulong)field << 3);
            Raw(value);
        }

        public void Bytes(int field, ReadOnlySpan<byte> value)
        {
            Raw(((ulong)field << 3) | 2);
            Raw((ulong)value.Length);
            _stream.Write(value);
        }

        public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public byte[] ToArray() => _stream.ToArray();

        private void Raw(ulong value)
        {
            while (value >= 0x80)
            {
                _stream.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }
            _stream.WriteByte((byte)value);
        }
    }
}
