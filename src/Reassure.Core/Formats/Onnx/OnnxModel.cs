using Reassure.Formats.Onnx.Proto;
using Reassure.Networks;

namespace Reassure.Formats.Onnx;

/// <summary>
/// A feed-forward ReLU network read from an ONNX file, with the facts of the file it came from.
/// The original graph is kept (<see cref="Proto"/>) so that an exporter can copy it.
/// </summary>
public sealed class OnnxModel
{
    internal OnnxModel(Network network, string source, long opsetVersion, long irVersion,
        string inputName, string inputShape, string outputName, string outputShape, ModelProto proto)
    {
        Network = network;
        Source = source;
        OpsetVersion = opsetVersion;
        IrVersion = irVersion;
        InputName = inputName;
        InputShape = inputShape;
        OutputName = outputName;
        OutputShape = outputShape;
        Proto = proto;
    }

    /// <summary>The network: dense layers in double, consecutive affine operators folded into one layer.</summary>
    public Network Network { get; }

    /// <summary>The file name (or the name given with the bytes).</summary>
    public string Source { get; }

    /// <summary>Version of the default ONNX operator set (domain "" / "ai.onnx").</summary>
    public long OpsetVersion { get; }

    /// <summary>ONNX IR version of the file.</summary>
    public long IrVersion { get; }

    /// <summary>Name of the graph input that carries the data (initializers listed as inputs are skipped).</summary>
    public string InputName { get; }

    /// <summary>Declared shape of the input, dims joined by commas; symbolic dims by name, unknown as "?" (e.g. "N,784", "1,1,1,5").</summary>
    public string InputShape { get; }

    /// <summary>Name of the graph output.</summary>
    public string OutputName { get; }

    /// <summary>Declared shape of the output, as <see cref="InputShape"/>.</summary>
    public string OutputShape { get; }

    /// <summary>The parsed protobuf of the file.</summary>
    internal ModelProto Proto { get; }
}
