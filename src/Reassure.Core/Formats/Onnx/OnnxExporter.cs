using System.Buffers.Binary;
using Google.Protobuf;
using Reassure.Formats.Onnx.Proto;
using Reassure.Networks;

namespace Reassure.Formats.Onnx;

/// <summary>
/// Writes a <see cref="Network"/> as a standard ONNX model: IR version 7, default-domain opset 13, float32 tensors.
/// Each layer is a <c>Gemm</c> (alpha = beta = 1, transA = 0, transB = 1) with its weights stored <c>[out, in]</c> and
/// its bias <c>[out]</c> in <c>raw_data</c> (little-endian float32), followed by <c>Relu</c> except for the last layer.
/// Input <c>[N, n]</c> and output <c>[N, m]</c> with the symbolic batch dim "N", named after
/// <see cref="Network.InputName"/> and <see cref="Network.OutputName"/>. Tensor names come from the layers'
/// <see cref="LayerNames"/> when present and unique, else <c>layers.{k}.weight</c>, <c>layers.{k}.bias</c>,
/// <c>layers.{k}.z</c>, <c>layers.{k}.relu</c>. Weights are rounded to float32 (round to nearest).
/// </summary>
public static class OnnxExporter
{
    /// <summary>IR version written.</summary>
    public const long IrVersion = 7;

    /// <summary>Opset version written.</summary>
    public const long OpsetVersion = 13;

    /// <summary>Symbolic name of the batch dim.</summary>
    public const string BatchDim = "N";

    /// <summary>The model as ONNX bytes.</summary>
    public static byte[] ToBytes(Network network) => ToModel(network).ToByteArray();

    /// <summary>Writes the model to <paramref name="path"/> atomically (see <see cref="AtomicFile"/>).</summary>
    public static void Save(Network network, string path) => AtomicFile.WriteAllBytes(path, ToBytes(network));

    /// <summary>The model as a protobuf.</summary>
    internal static ModelProto ToModel(Network network)
    {
        ArgumentNullException.ThrowIfNull(network);
        network.RequireNoMaxPool("writing the network as Gemm/Relu layers");
        if (network.InputName == network.OutputName)
            throw new ArgumentException($"Input and output are both named '{network.InputName}'.", nameof(network));
        var used = new HashSet<string>(StringComparer.Ordinal) { network.InputName, network.OutputName };
        string Pick(string? preferred, string fallback)
        {
            if (!string.IsNullOrEmpty(preferred) && used.Add(preferred)) return preferred;
            var name = fallback;
            for (int i = 1; !used.Add(name); i++) name = $"{fallback}_{i}";
            return name;
        }

        var graph = new GraphProto { Name = "reassure" };
        graph.Input.Add(ValueInfo(network.InputName, network.InputSize));
        graph.Output.Add(ValueInfo(network.OutputName, network.OutputSize));
        string current = network.InputName;
        for (int k = 0; k < network.Layers.Count; k++)
        {
            var layer = network.Layers[k];
            bool last = k == network.Layers.Count - 1;
            string w = Pick(layer.Names.Weight, $"layers.{k}.weight");
            string b = Pick(layer.Names.Bias, $"layers.{k}.bias");
            string z = last ? network.OutputName : Pick(layer.Names.PreActivation, $"layers.{k}.z");
            graph.Initializer.Add(Float32(w, [layer.Outputs, layer.Inputs], layer.Weights)); // [out, in]
            graph.Initializer.Add(Float32(b, [layer.Outputs], layer.Bias)); // [out]
            var gemm = new NodeProto { Name = $"Gemm_{k}", OpType = "Gemm", Input = { current, w, b }, Output = { z } };
            gemm.Attribute.Add(new AttributeProto { Name = "alpha", Type = AttributeProto.Types.AttributeType.Float, F = 1f });
            gemm.Attribute.Add(new AttributeProto { Name = "beta", Type = AttributeProto.Types.AttributeType.Float, F = 1f });
            gemm.Attribute.Add(new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
            graph.Node.Add(gemm);
            current = z;
            if (layer.Relu)
            {
                string a = Pick(layer.Names.Activation, $"layers.{k}.relu");
                graph.Node.Add(new NodeProto { Name = $"Relu_{k}", OpType = "Relu", Input = { z }, Output = { a } });
                current = a;
            }
        }
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "Reassure.MLNet",
            ProducerVersion = typeof(OnnxExporter).Assembly.GetName().Version?.ToString() ?? "0",
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OpsetVersion });
        return model;
    }

    private static ValueInfoProto ValueInfo(string name, int width)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = BatchDim });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = width });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    private static TensorProto Float32(string name, long[] dims, double[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), (float)values[i]);
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(bytes) };
        t.Dims.Add(dims);
        return t;
    }
}
