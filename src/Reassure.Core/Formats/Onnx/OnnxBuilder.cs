using Google.Protobuf;
using Reassure.Formats.Onnx.Proto;

namespace Reassure.Formats.Onnx;

/// <summary>Small helpers that write ONNX graph pieces (float32 initializers, nodes with attributes).</summary>
internal sealed class OnnxBuilder(GraphProto graph, string prefix, GraphProto? initializers = null)
{
    private int _counter;

    /// <summary>The graph nodes are added to.</summary>
    public GraphProto Graph { get; } = graph;

    /// <summary>The graph initializers are added to: the outermost graph, so that subgraphs read them from outer scope.</summary>
    private GraphProto Initializers { get; } = initializers ?? graph;

    /// <summary>A builder for a subgraph (an If branch): its nodes go to a new graph, its constants to this builder's.</summary>
    public OnnxBuilder Subgraph(string name) => new(new GraphProto { Name = Name(name) }, $"{prefix}{name}/", Initializers);

    /// <summary>
    /// A builder for a subgraph that holds its own constants (and those of subgraphs built from it). ONNX Runtime
    /// computes some nodes differently when their constant operand comes from an outer scope (it pre-packs only a
    /// graph's own initializers): a node in such a subgraph then computes what the same node in the main graph does.
    /// </summary>
    public OnnxBuilder SubgraphWithConstants(string name)
    {
        var g = new GraphProto { Name = Name(name) };
        return new OnnxBuilder(g, $"{prefix}{name}/", g);
    }

    /// <summary>A fresh tensor name.</summary>
    public string Name(string hint) => $"{prefix}{hint}_{_counter++}";

    /// <summary>Adds a float32 initializer from doubles with the given dims.</summary>
    public string Constant(string hint, ReadOnlySpan<double> values, params long[] dims)
    {
        var name = Name(hint);
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
            System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), (float)values[i]);
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(bytes) };
        t.Dims.AddRange(dims);
        Initializers.Initializer.Add(t);
        return name;
    }

    /// <summary>Adds an int64 initializer.</summary>
    public string Int64s(string hint, params long[] values)
    {
        var name = Name(hint);
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.Add(values.Length);
        t.Int64Data.AddRange(values);
        Initializers.Initializer.Add(t);
        return name;
    }

    /// <summary>Adds a node and returns its (single) output name.</summary>
    public string Node(string op, string[] inputs, string? output = null, params AttributeProto[] attributes)
    {
        output ??= Name(op.ToLowerInvariant());
        var node = new NodeProto { OpType = op, Name = Name(op) };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        return output;
    }

    /// <summary>A graph-valued attribute (an If branch).</summary>
    public static AttributeProto GraphAttribute(string name, GraphProto value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Graph, G = value };

    public static AttributeProto Float(string name, double value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = (float)value };

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    /// <summary>A float32 tensor value info with a symbolic first dimension.</summary>
    public static ValueInfoProto FloatInfo(string name, string batch, params long[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = batch });
        foreach (var d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}
