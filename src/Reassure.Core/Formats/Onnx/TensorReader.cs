using System.Buffers.Binary;
using Reassure.Formats.Onnx.Proto;

namespace Reassure.Formats.Onnx;

/// <summary>
/// Reads the values of a <c>TensorProto</c> into double. Supported element types: FLOAT (1), DOUBLE (11), INT64 (7),
/// INT32 (6). Data comes from <c>raw_data</c> (little-endian, fixed width per element) or from the typed repeated field
/// (<c>float_data</c>, <c>double_data</c>, <c>int64_data</c>, <c>int32_data</c>). External data (<c>data_location</c> = 1)
/// is not supported. float32 values convert to double exactly. A NaN or infinite FLOAT/DOUBLE element is RSR1007.
/// </summary>
internal static class TensorReader
{
    private const int ExternalLocation = 1;

    /// <summary>The tensor as a constant; <paramref name="where"/> names the place for errors.</summary>
    public static ConstantValue Read(TensorProto t, string where)
    {
        var shape = t.Dims.ToArray();
        foreach (var d in shape)
            if (d < 0) throw new ReassureException(ErrorCodes.OnnxBadTensor, $"tensor '{t.Name}' has a negative dimension in {SymbolicValue.Format(shape)}", where);
        long count = SymbolicValue.Product(shape);
        if (count > int.MaxValue) throw new ReassureException(ErrorCodes.OnnxBadTensor, $"tensor '{t.Name}' is too large ({count} elements)", where);
        if (t.DataLocation == ExternalLocation)
            throw new ReassureException(ErrorCodes.OnnxBadTensor, $"tensor '{t.Name}' keeps its data in an external file; expected the data inside the model (raw_data or typed fields)", where);
        var type = (TensorProto.Types.DataType)t.DataType;
        var raw = t.RawData.Span;
        int n = (int)count;
        double[] data = type switch
        {
            TensorProto.Types.DataType.Float => raw.Length > 0 ? FromRaw(raw, n, 4, t, where, b => BinaryPrimitives.ReadSingleLittleEndian(b))
                : FromTyped(t.FloatData.Select(v => (double)v).ToArray(), n, t, where),
            TensorProto.Types.DataType.Double => raw.Length > 0 ? FromRaw(raw, n, 8, t, where, BinaryPrimitives.ReadDoubleLittleEndian)
                : FromTyped(t.DoubleData.ToArray(), n, t, where),
            TensorProto.Types.DataType.Int64 => raw.Length > 0 ? FromRaw(raw, n, 8, t, where, b => BinaryPrimitives.ReadInt64LittleEndian(b))
                : FromTyped(t.Int64Data.Select(v => (double)v).ToArray(), n, t, where),
            TensorProto.Types.DataType.Int32 => raw.Length > 0 ? FromRaw(raw, n, 4, t, where, b => BinaryPrimitives.ReadInt32LittleEndian(b))
                : FromTyped(t.Int32Data.Select(v => (double)v).ToArray(), n, t, where),
            _ => throw new ReassureException(ErrorCodes.OnnxBadTensor,
                $"tensor '{t.Name}' has data type {type} ({t.DataType}); expected FLOAT, DOUBLE, INT64 or INT32", where),
        };
        if (type is TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Double) CheckFinite(data, $"tensor '{t.Name}'", where);
        return new ConstantValue(shape, data, string.IsNullOrEmpty(t.Name) ? null : t.Name);
    }

    /// <summary>Throws RSR1007 at the first NaN or infinity of <paramref name="data"/>, naming <paramref name="what"/> and the flat index.</summary>
    public static void CheckFinite(IReadOnlyList<double> data, string what, string where)
    {
        for (int i = 0; i < data.Count; i++)
        {
            if (double.IsFinite(data[i])) continue;
            throw new ReassureException(ErrorCodes.OnnxNonFinite,
                $"{what} holds {data[i].ToString(System.Globalization.CultureInfo.InvariantCulture)} at element {i} (flat index); expected finite values", where);
        }
    }

    private delegate double Decode(ReadOnlySpan<byte> bytes);

    private static double[] FromRaw(ReadOnlySpan<byte> raw, int n, int width, TensorProto t, string where, Decode decode)
    {
        if (raw.Length != (long)n * width)
            throw new ReassureException(ErrorCodes.OnnxBadTensor,
                $"tensor '{t.Name}' has {raw.Length} bytes of raw_data; its shape {SymbolicValue.Format(t.Dims)} needs {(long)n * width}", where);
        var data = new double[n];
        for (int i = 0; i < n; i++) data[i] = decode(raw.Slice(i * width, width));
        return data;
    }

    private static double[] FromTyped(double[] values, int n, TensorProto t, string where)
    {
        if (values.Length != n)
            throw new ReassureException(ErrorCodes.OnnxBadTensor,
                values.Length == 0 ? $"tensor '{t.Name}' has no data; its shape {SymbolicValue.Format(t.Dims)} needs {n} values"
                    : $"tensor '{t.Name}' has {values.Length} values; its shape {SymbolicValue.Format(t.Dims)} needs {n}", where);
        return values;
    }
}
