using Reassure.Formats.Onnx.Proto;
using Reassure.Networks;

namespace Reassure.Formats.Onnx.Operators;

/// <summary>
/// Pad, mode constant: an index map (<see cref="SparseMap.Gather"/>) whose border elements are the constant (in the
/// offset); negative pads crop. Pads come from the attribute (opset &lt; 11) or the constant second input, over the full
/// rank [x1_begin, ..., xn_begin, x1_end, ..., xn_end]; the batch axis must not be padded.
/// </summary>
internal static class PadOperator
{
    public static void Pad(ImportContext ctx, NodeProto node)
    {
        var a = ctx.Input(node, 0) as AffineValue
            ?? throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, "data (input 0) is a constant; expected it to depend on the network input");
        ctx.OnCurrentBase(node, a);
        string mode = ImportContext.Attribute(node, "mode")?.S.ToStringUtf8() ?? "constant";
        if (mode is not ("constant" or ""))
            throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, $"mode = {mode} is not supported; expected constant");
        long[] pads;
        double value;
        if (ctx.Opset < 11)
        {
            pads = ImportContext.Ints(node, "pads") ?? throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, "the 'pads' attribute is missing");
            value = ImportContext.Float(node, "value", 0.0);
        }
        else
        {
            pads = ctx.ConstantInput(node, 1, "pads").AsInt64();
            value = ImportContext.HasInput(node, 2) ? ctx.ConstantInput(node, 2, "constant_value").Data.FirstOrDefault() : 0.0;
            if (ImportContext.HasInput(node, 3)) throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, "the 'axes' input is not supported; expected pads over every axis");
        }
        int rank = a.Shape.Length + 1;
        if (pads.Length != 2 * rank)
            throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, $"pads has {pads.Length} values; expected {2 * rank} (begin and end of each of the {rank} axes)");
        if (pads[0] != 0 || pads[rank] != 0)
            throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, "pads the batch axis; expected 0 for axis 0");
        int r = a.Shape.Length;
        var outShape = new int[r];
        for (int d = 0; d < r; d++)
        {
            long size = a.Shape[d] + pads[d + 1] + pads[rank + d + 1];
            if (size < 1 || size > int.MaxValue) throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, $"axis {d + 1} would have size {size}; expected a positive size");
            outShape[d] = (int)size;
        }
        int count = SymbolicValue.Product(outShape);
        var index = new int[count];
        var offset = new double[count];
        var idx = new int[r];
        for (int e = 0; e < count; e++)
        {
            int src = 0;
            bool inside = true;
            for (int d = 0; d < r; d++)
            {
                long s = idx[d] - pads[d + 1];
                if (s < 0 || s >= a.Shape[d]) { inside = false; break; }
                src = src * a.Shape[d] + (int)s;
            }
            index[e] = inside ? src : -1;
            offset[e] = inside ? a.Offset[src] : value;
            for (int d = r - 1; d >= 0; d--)
            {
                if (++idx[d] < outShape[d]) break;
                idx[d] = 0;
            }
        }
        bool identity = Broadcasting.IsIdentity(index, a.Count);
        ctx.Output(node, identity ? a : a.Then(SparseMap.Gather(a.Count, index), offset, outShape, a.WeightName, a.BiasName));
    }
}
