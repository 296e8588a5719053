using Reassure.Formats.Onnx.Proto;

namespace Reassure.Formats.Onnx.Operators;

/// <summary>The operators of the default ONNX domain the importer understands, by op_type.</summary>
internal static class OperatorTable
{
    private static readonly Dictionary<string, Action<ImportContext, NodeProto>> Handlers = new(StringComparer.Ordinal)
    {
        ["Gemm"] = GemmOperator.Gemm,
        ["MatMul"] = MatMulOperator.MatMul,
        ["Add"] = ElementwiseOperators.Add,
        ["Sub"] = ElementwiseOperators.Sub,
        ["Mul"] = ElementwiseOperators.Mul,
        ["Div"] = ElementwiseOperators.Div,
        ["Relu"] = ReluOperator.Relu,
        ["Identity"] = ShapeOperators.Identity,
        ["Flatten"] = ShapeOperators.Flatten,
        ["Reshape"] = ShapeOperators.Reshape,
        ["Squeeze"] = ShapeOperators.Squeeze,
        ["Unsqueeze"] = ShapeOperators.Unsqueeze,
        ["Constant"] = ConstantOperator.Constant,
        ["Conv"] = ConvOperator.Conv,
        ["AveragePool"] = AveragePoolOperator.AveragePool,
        ["GlobalAveragePool"] = AveragePoolOperator.GlobalAveragePool,
        ["Pad"] = PadOperator.Pad,
        ["Transpose"] = TransposeOperator.Transpose,
        ["BatchNormalization"] = BatchNormalizationOperator.BatchNormalization,
        ["Dropout"] = DropoutOperator.Dropout,
        ["MaxPool"] = MaxPoolOperator.MaxPool,
    };

    /// <summary>The supported op types, sorted.</summary>
    public static IReadOnlyList<string> Supported { get; } = Handlers.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>The handler for a node, or null when its operator is not supported.</summary>
    public static Action<ImportContext, NodeProto>? Find(NodeProto node) =>
        node.Domain is "" or "ai.onnx" && Handlers.TryGetValue(node.OpType, out var h) ? h : null;
}
