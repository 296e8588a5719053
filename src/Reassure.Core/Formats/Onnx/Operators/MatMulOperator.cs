using Reassure.Formats.Onnx.Proto;

namespace Reassure.Formats.Onnx.Operators;

/// <summary>
/// MatMul: Y = A B with A the network data <c>[batch, ..., in]</c> and B a constant matrix <c>[in, out]</c>
/// (numpy semantics; a 1-D B <c>[in]</c> drops the last axis). Stacked (3-D or more) B and a constant A are not supported.
/// </summary>
internal static class MatMulOperator
{
    public static void MatMul(ImportContext ctx, NodeProto node)
    {
        var a = ctx.Input(node, 0) as AffineValue
            ?? throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, "A (input 0) is a constant; expected A to depend on the network input and B to be constant");
        ctx.OnCurrentBase(node, a);
        var b = ctx.ConstantInput(node, 1, "B");
        if (a.Shape.Length < 1)
            throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, "A has shape [batch]; expected at least [batch, in]");
        if (b.Shape.Length is < 1 or > 2)
            throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, $"B has shape {SymbolicValue.Format(b.Shape)}; expected [in, out] or [in]");
        int k = a.Shape[^1];
        if (b.Shape[0] != k)
            throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, $"A has last dim {k} but B has shape {SymbolicValue.Format(b.Shape)}; expected [{k}, out]");
        int n = b.Shape.Length == 2 ? (int)b.Shape[1] : 1;
        var w = new double[n * k]; // [out, in]
        for (int o = 0; o < n; o++)
            for (int i = 0; i < k; i++)
                w[o * k + i] = b.Data[i * n + o];
        int[] shape = b.Shape.Length == 2 ? [.. a.Shape[..^1], n] : a.Shape[..^1];
        ctx.Output(node, LinearMaps.Apply(a, w, k, n, shape, b.Name));
    }
}
