using Reassure.Formats.Onnx.Proto;
using Reassure.Networks;

namespace Reassure.Formats.Onnx;

/// <summary>
/// State of the symbolic evaluation of one graph: the value of every tensor seen so far, the layers closed by ReLUs,
/// and the current layer input (base). Gives operators typed access to inputs and attributes and coded errors that
/// name the file, the node and its operator.
/// </summary>
internal sealed class ImportContext
{
    private readonly Dictionary<string, SymbolicValue> _values = new(StringComparer.Ordinal);

    public ImportContext(string source, long opset, bool batchIsOne)
    {
        Source = source;
        Opset = opset;
        BatchIsOne = batchIsOne;
    }

    /// <summary>File name for messages.</summary>
    public string Source { get; }

    /// <summary>Default-domain opset version (attribute vs input forms of some operators depend on it).</summary>
    public long Opset { get; }

    /// <summary>Whether the input's batch dimension is the fixed value 1.</summary>
    public bool BatchIsOne { get; }

    /// <summary>Layers closed so far (each ends in a ReLU).</summary>
    public List<Layer> Layers { get; } = [];

    /// <summary>Id of the current layer input: 0 = network input, l = output of the l-th ReLU.</summary>
    public int CurrentBase { get; set; }

    /// <summary>Where a node is, for messages.</summary>
    public string Where(NodeProto node) =>
        $"{Source}, node '{(string.IsNullOrEmpty(node.Name) ? "(unnamed, output " + node.Output.FirstOrDefault() + ")" : node.Name)}' ({node.OpType})";

    /// <summary>A coded error at <paramref name="node"/>.</summary>
    public ReassureException Error(string code, NodeProto node, string message) => new(code, message, Where(node));

    /// <summary>Records the value of a tensor.</summary>
    public void Set(string name, SymbolicValue value) => _values[name] = value;

    /// <summary>The value of a tensor, or null.</summary>
    public SymbolicValue? Get(string name) => _values.GetValueOrDefault(name);

    /// <summary>Whether input i of the node is given (optional inputs may be missing or "").</summary>
    public static bool HasInput(NodeProto node, int i) => i < node.Input.Count && node.Input[i].Length > 0;

    /// <summary>The value of input i of the node.</summary>
    public SymbolicValue Input(NodeProto node, int i)
    {
        if (!HasInput(node, i)) throw Error(ErrorCodes.OnnxUnsupportedGraph, node, $"input {i} is missing; expected at least {i + 1} inputs");
        var name = node.Input[i];
        return _values.TryGetValue(name, out var v) ? v
            : throw Error(ErrorCodes.OnnxUnsupportedGraph, node, $"input '{name}' is not produced by any node, initializer or graph input");
    }

    /// <summary>Input i, which must be a constant.</summary>
    public ConstantValue ConstantInput(NodeProto node, int i, string role) =>
        Input(node, i) as ConstantValue
        ?? throw Error(ErrorCodes.OnnxUnsupportedGraph, node, $"{role} (input {i}, '{node.Input[i]}') depends on the network input; expected a constant (initializer or Constant node)");

    /// <summary>Sets output 0 of the node.</summary>
    public void Output(NodeProto node, SymbolicValue value)
    {
        if (node.Output.Count == 0) throw Error(ErrorCodes.OnnxUnsupportedGraph, node, "the node has no output");
        Set(node.Output[0], value);
    }

    /// <summary>The named attribute, or null.</summary>
    public static AttributeProto? Attribute(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name);

    /// <summary>An integer attribute with a default.</summary>
    public static long Int(NodeProto node, string name, long fallback) => Attribute(node, name) is { } a ? a.I : fallback;

    /// <summary>A float attribute with a default.</summary>
    public static double Float(NodeProto node, string name, double fallback) => Attribute(node, name) is { } a ? a.F : fallback;

    /// <summary>An integer-list attribute, or null.</summary>
    public static long[]? Ints(NodeProto node, string name) => Attribute(node, name) is { } a ? a.Ints.ToArray() : null;

    /// <summary>Checks that an affine operand is a function of the current layer input.</summary>
    public AffineValue OnCurrentBase(NodeProto node, AffineValue a)
    {
        if (a.Base != CurrentBase)
            throw Error(ErrorCodes.OnnxUnsupportedGraph, node,
                $"the operand depends on the output of ReLU layer {a.Base} but a later ReLU layer ({CurrentBase}) has already been closed; " +
                "expected a plain chain of layers (no skip connections or branches)");
        return a;
    }
}
