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
        string inputName, string inputShape, string outputName, string outputShape, ModelProto proto, string? strippedOutputOperator = null, string? logitsName = null)
    {
        StrippedOutputOperator = strippedOutputOperator;
        LogitsName = logitsName ?? outputName;
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

    /// <summary>
    /// The operator the importer left out at the end of the graph ("Softmax" or "LogSoftmax"), or null: the network's
    /// outputs are then the scores that operator reads. Both are strictly increasing in each score for fixed others,
    /// and preserve the order of the scores, so argmax/argmin decisions (labels, VNN-LIB comparisons between outputs)
    /// are the same with or without them; any other use of the outputs (a threshold on a probability) is not.
    /// </summary>
    public string? StrippedOutputOperator { get; }

    /// <summary>The tensor the network's output is: the graph output, or the input of a stripped trailing Softmax.</summary>
    public string LogitsName { get; }

    /// <summary>The parsed protobuf of the file.</summary>
    internal ModelProto Proto { get; }
}
