using Reassure.Formats.Onnx.Proto;

namespace Reassure.Formats.Onnx.Operators;

/// <summary>
/// Gemm: Y = alpha * A' B' + beta * C, with A' = A (transA must be 0), B' = B^T when transB = 1 (B stored
/// <c>[out, in]</c>, PyTorch layout) or B (stored <c>[in, out]</c>). A is the network data <c>[batch, in]</c>; B and C are
/// constants; C broadcasts to <c>[batch, out]</c> (shapes [], [out], [1, out]).
/// </summary>
internal static class GemmOperator
{
    public static void Gemm(ImportContext ctx, NodeProto node)
    {
        if (ImportContext.Int(node, "transA", 0) != 0)
            throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, "transA = 1 is not supported; expected transA = 0 (A is the batch of inputs, [batch, in])");
        bool transB = ImportContext.Int(node, "transB", 0) != 0;
        double alpha = ImportContext.Float(node, "alpha", 1.0);
        double beta = ImportContext.Float(node, "beta", 1.0);
        var a = ctx.Input(node, 0) as AffineValue
            ?? throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, "A (input 0) is a constant; expected A to depend on the network input");
        ctx.OnCurrentBase(node, a);
        var b = ctx.ConstantInput(node, 1, "B");
        if (a.Shape.Length != 1)
            throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, $"A has shape [batch, {string.Join(", ", a.Shape)}]; expected a matrix [batch, in]");
        if (b.Shape.Length != 2)
            throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, $"B has shape {SymbolicValue.Format(b.Shape)}; expected a matrix");
        int k = a.Shape[0];
        long bk = transB ? b.Shape[1] : b.Shape[0];
        int n = (int)(transB ? b.Shape[0] : b.Shape[1]);
        if (bk != k)
            throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node,
                $"A has {k} columns but B {SymbolicValue.Format(b.Shape)} (transB = {(transB ? 1 : 0)}) expects {bk}");
        var w = new double[n * k]; // [out, in]
        for (int o = 0; o < n; o++)
            for (int i = 0; i < k; i++)
                w[o * k + i] = alpha * (transB ? b.Data[o * k + i] : b.Data[i * n + o]);
        var y = LinearMaps.Apply(a, w, k, n, [n], b.Name);
        string? biasName = null;
        if (ImportContext.HasInput(node, 2))
        {
            var c = ctx.ConstantInput(node, 2, "C");
            var bc = Broadcasting.Broadcast([1, n], c.Shape);
            if (bc is null || bc.Value.Shape.Length != 2 || bc.Value.Shape[0] != 1 || bc.Value.Shape[1] != n)
                throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, $"C has shape {SymbolicValue.Format(c.Shape)}; expected it to broadcast to [1, {n}]");
            for (int o = 0; o < n; o++) y.Offset[o] = LinearMaps.AddToOffset(y.Offset[o], beta * c.Data[bc.Value.IndexB[o]]);
            biasName = c.Name;
        }
        ctx.Output(node, y.WithNames(b.Name, biasName));
    }
}
