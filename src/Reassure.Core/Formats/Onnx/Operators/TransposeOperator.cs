using Reassure.Formats.Onnx.Proto;
using Reassure.Networks;

namespace Reassure.Formats.Onnx.Operators;

/// <summary>
/// Transpose: a permutation of the axes, an exact index map (<see cref="SparseMap.Gather"/>); NHWC to NCHW and back as
/// the VNN-COMP files use it. The batch axis must stay first (perm[0] = 0). A constant is transposed in place.
/// </summary>
internal static class TransposeOperator
{
    public static void Transpose(ImportContext ctx, NodeProto node)
    {
        var x = ctx.Input(node, 0);
        long[] full = x switch
        {
            ConstantValue c => c.Shape,
            AffineValue a => Broadcasting.FullShape(a),
            _ => throw new InvalidOperationException(),
        };
        int rank = full.Length;
        var perm = ImportContext.Ints(node, "perm") ?? Enumerable.Range(0, rank).Reverse().Select(i => (long)i).ToArray();
        if (perm.Length != rank || perm.Distinct().Count() != rank || perm.Any(p => p < 0 || p >= rank))
            throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, $"perm [{string.Join(", ", perm)}] is not a permutation of the {rank} axes");
        var outShape = perm.Select(p => full[p]).ToArray();
        var strides = new long[rank];
        long stride = 1;
        for (int d = rank - 1; d >= 0; d--) { strides[d] = stride; stride *= full[d]; }
        int count = checked((int)SymbolicValue.Product(full));
        var index = new int[count];
        var idx = new long[rank];
        for (int e = 0; e < count; e++)
        {
            long src = 0;
            for (int d = 0; d < rank; d++) src += idx[d] * strides[perm[d]];
            index[e] = (int)src;
            for (int d = rank - 1; d >= 0; d--)
            {
                if (++idx[d] < outShape[d]) break;
                idx[d] = 0;
            }
        }
        switch (x)
        {
            case ConstantValue c:
                ctx.Output(node, new ConstantValue(outShape, index.Select(i => c.Data[i]).ToArray()));
                return;
            case AffineValue a:
                ctx.OnCurrentBase(node, a);
                if (perm[0] != 0)
                    throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, $"perm [{string.Join(", ", perm)}] moves the batch axis; expected perm[0] = 0");
                var shape = outShape[1..].Select(d => (int)d).ToArray();
                var offset = index.Select(i => a.Offset[i]).ToArray();
                ctx.Output(node, Broadcasting.IsIdentity(index, a.Count) ? a.WithShape(shape)
                    : a.Then(SparseMap.Gather(a.Count, index), offset, shape, a.WeightName, a.BiasName));
                return;
        }
    }
}
