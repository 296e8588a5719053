using System.Buffers.Binary;
using Google.Protobuf;
using Reassure.Formats.Onnx.Proto;

namespace Reassure.Tests.Formats;

/// <summary>Builds small ONNX models in tests (opset 13 unless told otherwise).</summary>
internal sealed class ModelBuilder
{
    private readonly GraphProto _graph = new() { Name = "test" };
    private readonly long _opset;

    public ModelBuilder(string input, long[] inputDims, string output, long opset = 13, string batch = "N")
    {
        _opset = opset;
        _graph.Input.Add(Info(input, inputDims, batch));
        _graph.Output.Add(Info(output, null, batch));
    }

    private static ValueInfoProto Info(string name, long[]? dims, string batch)
    {
        var shape = new TensorShapeProto();
        if (dims is not null)
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = batch });
            foreach (var d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = dims is null ? null : shape } } };
    }

    public ModelBuilder Float(string name, long[] dims, params double[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), (float)values[i]);
        var t = new TensorProto { Name = name, DataType = 1, RawData = ByteString.CopyFrom(bytes) };
        t.Dims.Add(dims);
        _graph.Initializer.Add(t);
        return this;
    }

    public ModelBuilder Int64(string name, params long[] values)
    {
        var t = new TensorProto { Name = name, DataType = 7 };
        t.Dims.Add(values.Length);
        t.Int64Data.Add(values);
        _graph.Initializer.Add(t);
        return this;
    }

    public ModelBuilder Tensor(TensorProto t)
    {
        _graph.Initializer.Add(t);
        return this;
    }

    public ModelBuilder Node(string op, string name, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var n = new NodeProto { OpType = op, Name = name, Output = { output } };
        n.Input.Add(inputs);
        n.Attribute.Add(attributes);
        _graph.Node.Add(n);
        return this;
    }

    public static AttributeProto Int(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };

    public static AttributeProto Ints(string name, params long[] v)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.Add(v);
        return a;
    }

    public static AttributeProto Str(string name, string v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(v) };

    public static AttributeProto Flt(string name, float v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = v };

    public static AttributeProto Tensor(string name, TensorProto t) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Tensor, T = t };

    public byte[] Bytes()
    {
        var m = new ModelProto { IrVersion = 7, Graph = _graph, ProducerName = "test" };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = _opset });
        return m.ToByteArray();
    }
}
