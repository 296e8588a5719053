using Reassure.Formats.Onnx.Proto;
using Reassure.Networks;

namespace Reassure.Formats.Onnx.Operators;

/// <summary>
/// Conv (2-D, NCHW): Y = W * X + B with constant W <c>[M, C/group, kH, kW]</c> and B <c>[M]</c>; strides, pads,
/// dilations and groups as ONNX defines them (auto_pad NOTSET or VALID). The convolution is composed with the affine
/// value feeding it as compressed rows (<see cref="SparseMap.Conv2d"/>), never as a dense matrix.
/// </summary>
internal static class ConvOperator
{
    public static void Conv(ImportContext ctx, NodeProto node)
    {
        var a = Layout.Image(ctx, node);
        var w = ctx.ConstantInput(node, 1, "W");
        if (w.Shape.Length != 4)
            throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, $"W has shape {SymbolicValue.Format(w.Shape)}; expected [M, C/group, kH, kW] (2-D convolution)");
        int c = a.Shape[0], h = a.Shape[1], width = a.Shape[2];
        int m = (int)w.Shape[0];
        long group = ImportContext.Int(node, "group", 1);
        if (group < 1 || c % group != 0 || m % group != 0 || w.Shape[1] * group != c)
            throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node,
                $"W {SymbolicValue.Format(w.Shape)} with group = {group} does not fit X with {c} channels; expected W [M, C/group, kH, kW] with group dividing C and M");
        var kernel = Layout.Pair(ctx, node, "kernel_shape", 0);
        if (kernel.H == 0) kernel = ((int)w.Shape[2], (int)w.Shape[3]);
        if (kernel.H != w.Shape[2] || kernel.W != w.Shape[3])
            throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, $"kernel_shape [{kernel.H}, {kernel.W}] differs from W {SymbolicValue.Format(w.Shape)}");
        var strides = Layout.Pair(ctx, node, "strides", 1);
        var dilations = Layout.Pair(ctx, node, "dilations", 1);
        var pads = Layout.Pads(ctx, node);
        SparseMap conv;
        int oh, ow;
        try
        {
            conv = SparseMap.Conv2d(c, h, width, w.Data, m, kernel.H, kernel.W, strides.H, strides.W, pads.Top, pads.Left, pads.Bottom, pads.Right,
                dilations.H, dilations.W, (int)group, out oh, out ow);
        }
        catch (ArgumentException e)
        {
            throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, $"the convolution does not fit X [batch, {c}, {h}, {width}]: {e.Message}");
        }
        var offset = new double[conv.Outputs];
        conv.Apply(a.Offset, offset);
        string? biasName = null;
        if (ImportContext.HasInput(node, 2))
        {
            var b = ctx.ConstantInput(node, 2, "B");
            if (b.Data.Length != m)
                throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, $"B has {b.Data.Length} values; expected one per output channel ({m})");
            int plane = oh * ow;
            for (int k = 0; k < offset.Length; k++) offset[k] += b.Data[k / plane];
            biasName = b.Name;
        }
        ctx.Output(node, a.Then(conv, offset, [m, oh, ow], w.Name, biasName));
    }
}
