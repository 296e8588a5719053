using Reassure.Formats.Onnx.Proto;

namespace Reassure.Formats.Onnx.Operators;

/// <summary>
/// MaxPool is piecewise linear, not affine: an exact import needs the winner of every window in the activation pattern
/// (method.md §12), which regions, LPs, certificates and the exported gate do not carry yet. Refused with RSR1003 and
/// that reason, never approximated.
/// </summary>
internal static class MaxPoolOperator
{
    public static void MaxPool(ImportContext ctx, NodeProto node) =>
        throw ctx.Error(ErrorCodes.OnnxUnsupportedOperator, node,
            "MaxPool is piecewise linear (the winner of each window is part of the linear region) and this version does not carry " +
            "winners in regions, LPs and the exported gate, so it would have to approximate; it refuses instead. " +
            "Expected affine operators (Conv, AveragePool, Gemm, ...) and Relu; an AveragePool or a strided Conv in its place imports");
}
