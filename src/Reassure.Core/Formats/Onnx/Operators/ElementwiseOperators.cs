using Reassure.Formats.Onnx.Proto;

using Reassure.Networks;

namespace Reassure.Formats.Onnx.Operators;

/// <summary>
/// Add, Sub, Mul, Div with numpy broadcasting, where at most one side depends on the network input, or both sides are
/// affine in the same layer input (Add/Sub only). With t = M u + c and a constant k:
/// t + k = M u + (c + k); t - k = M u + (c - k); k - t = -M u + (k - c); t * k = (k M) u + k c; t / k = (M / k) u + c / k.
/// This folds input normalisation ((x - mean) / std, per feature or scalar) into the first layer. The constant may not
/// broadcast over the batch axis (its batch dim, if any, must be 1). k / t and t * t are not affine and are rejected.
/// </summary>
internal static class ElementwiseOperators
{
    private enum Op { Add, Sub, Mul, Div }

    public static void Add(ImportContext ctx, NodeProto node) => Apply(ctx, node, Op.Add);

    public static void Sub(ImportContext ctx, NodeProto node) => Apply(ctx, node, Op.Sub);

    public static void Mul(ImportContext ctx, NodeProto node) => Apply(ctx, node, Op.Mul);

    public static void Div(ImportContext ctx, NodeProto node) => Apply(ctx, node, Op.Div);

    private static double Eval(Op op, double x, double y) => op switch
    {
        Op.Add => x + y,
        Op.Sub => x - y,
        Op.Mul => x * y,
        _ => x / y,
    };

    private static void Apply(ImportContext ctx, NodeProto node, Op op)
    {
        var left = ctx.Input(node, 0);
        var right = ctx.Input(node, 1);
        switch (left, right)
        {
            case (ConstantValue l, ConstantValue r):
                {
                    var bc = Broadcasting.Broadcast(l.Shape, r.Shape)
                        ?? throw ShapeError(ctx, node, l.Shape, r.Shape);
                    var data = new double[bc.IndexA.Length];
                    for (int e = 0; e < data.Length; e++) data[e] = Eval(op, l.Data[bc.IndexA[e]], r.Data[bc.IndexB[e]]);
                    ctx.Output(node, new ConstantValue(bc.Shape, data));
                    return;
                }
            case (AffineValue l, ConstantValue r):
                ctx.Output(node, WithConstant(ctx, node, op, ctx.OnCurrentBase(node, l), r, constantOnLeft: false));
                return;
            case (ConstantValue l, AffineValue r):
                ctx.Output(node, WithConstant(ctx, node, op, ctx.OnCurrentBase(node, r), l, constantOnLeft: true));
                return;
            case (AffineValue l, AffineValue r):
                ctx.Output(node, TwoAffine(ctx, node, op, ctx.OnCurrentBase(node, l), ctx.OnCurrentBase(node, r)));
                return;
        }
    }

    private static ReassureException ShapeError(ImportContext ctx, NodeProto node, long[] a, long[] b) =>
        ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, $"operand shapes {SymbolicValue.Format(a)} and {SymbolicValue.Format(b)} do not broadcast");

    /// <summary>Broadcast of an affine operand (batch counted as 1) with another shape; the batch axis must stay first and 1.</summary>
    private static (int[] Shape, int[] IndexAffine, int[] IndexOther) BroadcastAffine(ImportContext ctx, NodeProto node, AffineValue a, long[] other, string otherWhat)
    {
        var full = Broadcasting.FullShape(a);
        var bc = Broadcasting.Broadcast(full, other) ?? throw ShapeError(ctx, node, full, other);
        if (other.Length > full.Length || bc.Shape[0] != 1)
            throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node,
                $"{otherWhat} of shape {SymbolicValue.Format(other)} would broadcast over the batch axis of the data [batch, {string.Join(", ", a.Shape)}]; expected at most {full.Length} dims with a leading 1");
        return (bc.Shape[1..].Select(d => (int)d).ToArray(), bc.IndexA, bc.IndexB);
    }

    private static AffineValue WithConstant(ImportContext ctx, NodeProto node, Op op, AffineValue a, ConstantValue k, bool constantOnLeft)
    {
        if (op == Op.Div && constantOnLeft)
            throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, "a constant divided by the network data is not affine; expected data / constant");
        var (shape, ia, ik) = BroadcastAffine(ctx, node, a, k.Shape, "the constant");
        int count = ia.Length;
        if (op == Op.Div)
        {
            foreach (var i in ik)
                if (k.Data[i] == 0) throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, $"division by a zero constant in '{k.Name ?? node.Input[1]}'; expected non-zero divisors");
        }
        var offset = new double[count];
        for (int e = 0; e < count; e++)
        {
            double c = a.Offset[ia[e]], kv = k.Data[ik[e]];
            offset[e] = op switch
            {
                Op.Add => LinearMaps.AddToOffset(c, kv),
                Op.Sub => constantOnLeft ? kv - c : c - kv,
                Op.Mul => c * kv,
                _ => c / kv,
            };
        }
        bool keepsMatrix = Broadcasting.IsIdentity(ia, a.Count) && (op == Op.Add || (op == Op.Sub && !constantOnLeft));
        // A constant added after the weights is the layer's bias (MatMul + Add); before any weights it is normalisation.
        string? biasName = a.BiasName;
        if (op is Op.Add or Op.Sub && a.WeightName is not null && a.BiasName is null) biasName = k.Name;
        if (keepsMatrix) return new AffineValue(shape, a.Map, offset, a.Base, a.Width, a.WeightName, biasName);
        if (a.Map is not DenseMap)
        {
            // The identity or a structured map: an index map with a per-element scale, composed without a dense matrix
            // (normalisation before a convolution, a per-channel scale after one).
            var scaleOf = new double[count];
            for (int e = 0; e < count; e++)
            {
                scaleOf[e] = op switch
                {
                    Op.Add => 1.0,
                    Op.Sub => constantOnLeft ? -1.0 : 1.0,
                    Op.Mul => k.Data[ik[e]],
                    _ => 1.0 / k.Data[ik[e]],
                };
            }
            var gather = SparseMap.Gather(a.Count, ia, scaleOf);
            return a.Then(gather, offset, shape, a.WeightName, biasName);
        }
        double[]? matrix;
        {
            matrix = new double[(long)count * a.Width];
            for (int e = 0; e < count; e++)
            {
                double scale = op switch
                {
                    Op.Add => 1.0,
                    Op.Sub => constantOnLeft ? -1.0 : 1.0,
                    Op.Mul => k.Data[ik[e]],
                    _ => 1.0,
                };
                var row = matrix.AsSpan((int)((long)e * a.Width), a.Width);
                if (op == Op.Div)
                {
                    a.AddRow(ia[e], 1.0, row);
                    double d = k.Data[ik[e]];
                    for (int j = 0; j < row.Length; j++) row[j] /= d;
                }
                else
                {
                    a.AddRow(ia[e], scale, row);
                }
            }
        }
        return new AffineValue(shape, matrix, offset, a.Base, a.Width, a.WeightName, biasName);
    }

    private static AffineValue TwoAffine(ImportContext ctx, NodeProto node, Op op, AffineValue l, AffineValue r)
    {
        if (op is Op.Mul or Op.Div)
            throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, $"both operands depend on the network input, so {node.OpType} is not affine; expected one constant operand");
        var (shape, il, ir) = BroadcastAffine(ctx, node, l, Broadcasting.FullShape(r), "the second operand");
        int count = il.Length;
        double sign = op == Op.Add ? 1.0 : -1.0;
        var matrix = new double[(long)count * l.Width];
        var offset = new double[count];
        for (int e = 0; e < count; e++)
        {
            var row = matrix.AsSpan((int)((long)e * l.Width), l.Width);
            l.AddRow(il[e], 1.0, row);
            r.AddRow(ir[e], sign, row);
            offset[e] = l.Offset[il[e]] + sign * r.Offset[ir[e]];
        }
        return new AffineValue(shape, matrix, offset, l.Base, l.Width, l.WeightName ?? r.WeightName, l.BiasName ?? r.BiasName);
    }
}
