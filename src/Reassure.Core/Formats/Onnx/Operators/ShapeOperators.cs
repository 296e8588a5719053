using Reassure.Formats.Onnx.Proto;

namespace Reassure.Formats.Onnx.Operators;

/// <summary>
/// Operators that only change the shape (the row-major element order stays): Identity, Flatten, Reshape, Squeeze,
/// Unsqueeze. For the network data the batch axis must stay the first axis and is never merged, split, removed or
/// inserted; constants are reshaped freely. Axes come from attributes (Squeeze/Unsqueeze before opset 13, Reshape
/// before opset 5) or from a constant second input.
/// </summary>
internal static class ShapeOperators
{
    public static void Identity(ImportContext ctx, NodeProto node) => ctx.Output(node, ctx.Input(node, 0));

    /// <summary>Flatten(axis): [d0..dn) to [prod(d0..d_axis), prod(d_axis..dn)].</summary>
    public static void Flatten(ImportContext ctx, NodeProto node)
    {
        var x = ctx.Input(node, 0);
        long axis = ImportContext.Int(node, "axis", 1);
        var full = FullShape(x);
        if (axis < 0) axis += full.Length;
        if (axis < 0 || axis > full.Length)
            throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, $"axis {ImportContext.Int(node, "axis", 1)} is outside the rank {full.Length} of the input");
        long outer = SymbolicValue.Product(full.AsSpan(0, (int)axis)), inner = SymbolicValue.Product(full.AsSpan((int)axis));
        Reshaped(ctx, node, x, [outer, inner]);
    }

    /// <summary>Reshape(data, shape): 0 copies the input dim (unless allowzero = 1), -1 is inferred.</summary>
    public static void Reshape(ImportContext ctx, NodeProto node)
    {
        var x = ctx.Input(node, 0);
        long[] target = ImportContext.HasInput(node, 1) ? ctx.ConstantInput(node, 1, "shape").AsInt64()
            : ImportContext.Ints(node, "shape")
              ?? throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, "no target shape; expected a 'shape' input or attribute");
        bool allowZero = ImportContext.Int(node, "allowzero", 0) != 0;
        var full = FullShape(x);
        long total = SymbolicValue.Product(full);
        var shape = new long[target.Length];
        int infer = -1;
        for (int i = 0; i < target.Length; i++)
        {
            long t = target[i];
            if (t == 0 && !allowZero)
            {
                if (i >= full.Length) throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, $"target shape {SymbolicValue.Format(target)} copies dim {i}, which the input {SymbolicValue.Format(full)} does not have");
                shape[i] = full[i];
            }
            else if (t == -1)
            {
                if (infer >= 0) throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, $"target shape {SymbolicValue.Format(target)} has more than one -1");
                infer = i;
                shape[i] = 1;
            }
            else if (t < 0) throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, $"target shape {SymbolicValue.Format(target)} has a negative dim {t}");
            else shape[i] = t;
        }
        if (infer >= 0)
        {
            long known = SymbolicValue.Product(shape);
            if (known == 0 || total % known != 0)
                throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, $"cannot infer the -1 in {SymbolicValue.Format(target)} from {total} elements");
            shape[infer] = total / known;
        }
        Reshaped(ctx, node, x, shape);
    }

    public static void Squeeze(ImportContext ctx, NodeProto node)
    {
        var x = ctx.Input(node, 0);
        var full = FullShape(x);
        var axes = Axes(ctx, node, full.Length);
        var keep = new List<long>();
        for (int i = 0; i < full.Length; i++)
        {
            bool drop = axes is null ? full[i] == 1 && !(i == 0 && x is AffineValue) : axes.Contains(i);
            if (drop && full[i] != 1) throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, $"axis {i} of {SymbolicValue.Format(full)} has size {full[i]}; expected 1");
            if (!drop) keep.Add(full[i]);
        }
        if (x is AffineValue && axes is not null && axes.Contains(0))
            throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, "squeezing axis 0 would remove the batch axis of the network data");
        Reshaped(ctx, node, x, [.. keep]);
    }

    public static void Unsqueeze(ImportContext ctx, NodeProto node)
    {
        var x = ctx.Input(node, 0);
        var full = FullShape(x);
        int rank = full.Length + (ImportContext.HasInput(node, 1) ? ctx.ConstantInput(node, 1, "axes").Data.Length : (ImportContext.Ints(node, "axes")?.Length ?? 0));
        var axes = Axes(ctx, node, rank)
            ?? throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, "no axes; expected an 'axes' input or attribute");
        if (x is AffineValue && axes.Contains(0))
            throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, "inserting axis 0 would move the batch axis of the network data");
        var shape = new long[rank];
        int src = 0;
        for (int i = 0; i < rank; i++) shape[i] = axes.Contains(i) ? 1 : full[src++];
        Reshaped(ctx, node, x, shape);
    }

    /// <summary>Normalised axes (input 1 or attribute 'axes'), or null when none are given.</summary>
    private static HashSet<int>? Axes(ImportContext ctx, NodeProto node, int rank)
    {
        long[]? raw = ImportContext.HasInput(node, 1) ? ctx.ConstantInput(node, 1, "axes").AsInt64() : ImportContext.Ints(node, "axes");
        if (raw is null) return null;
        var set = new HashSet<int>();
        foreach (var a in raw)
        {
            long n = a < 0 ? a + rank : a;
            if (n < 0 || n >= rank) throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, $"axis {a} is outside rank {rank}");
            set.Add((int)n);
        }
        return set;
    }

    private static long[] FullShape(SymbolicValue x) => x switch
    {
        ConstantValue c => c.Shape,
        AffineValue a => Broadcasting.FullShape(a),
        _ => throw new InvalidOperationException(),
    };

    /// <summary>Outputs x with a new full shape (batch counted as 1 for the network data, which must keep it first).</summary>
    private static void Reshaped(ImportContext ctx, NodeProto node, SymbolicValue x, long[] shape)
    {
        switch (x)
        {
            case ConstantValue c:
                if (SymbolicValue.Product(shape) != c.Data.Length)
                    throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, $"cannot reshape {SymbolicValue.Format(c.Shape)} to {SymbolicValue.Format(shape)}");
                ctx.Output(node, new ConstantValue(shape, c.Data, c.Name));
                break;
            case AffineValue a:
                if (shape.Length == 0 || shape[0] != 1 || SymbolicValue.Product(shape) != a.Count)
                    throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node,
                        $"the result {SymbolicValue.Format(shape)} does not keep the batch axis of the data [batch, {string.Join(", ", a.Shape)}] first; expected [batch, ...] with {a.Count} elements per sample");
                ctx.Output(node, a.WithShape(shape[1..].Select(d => (int)d).ToArray()));
                break;
        }
    }
}
