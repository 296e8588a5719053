using Reassure.Formats.Onnx.Proto;
using Reassure.Networks;

namespace Reassure.Formats.Onnx.Operators;

/// <summary>
/// AveragePool and GlobalAveragePool (2-D, NCHW): the mean of each window, a linear map (<see cref="SparseMap.AveragePool"/>).
/// count_include_pad as ONNX defines it; ceil_mode = 1 only where it gives the same output size as 0; dilations 1.
/// </summary>
internal static class AveragePoolOperator
{
    public static void AveragePool(ImportContext ctx, NodeProto node)
    {
        var a = Layout.Image(ctx, node);
        var kernel = Layout.Pair(ctx, node, "kernel_shape", 0);
        if (kernel.H == 0) throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, "kernel_shape is missing; expected [kH, kW]");
        var strides = Layout.Pair(ctx, node, "strides", 1);
        var dilations = Layout.Pair(ctx, node, "dilations", 1);
        if (dilations != (1, 1)) throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, "dilations other than 1 are not supported for pools; expected [1, 1]");
        var pads = Layout.Pads(ctx, node);
        bool includePad = ImportContext.Int(node, "count_include_pad", 0) != 0;
        CheckCeilMode(ctx, node, a.Shape, kernel, strides, pads);
        Pool(ctx, node, a, kernel, strides, pads, includePad);
    }

    public static void GlobalAveragePool(ImportContext ctx, NodeProto node)
    {
        var a = Layout.Image(ctx, node);
        Pool(ctx, node, a, (a.Shape[1], a.Shape[2]), (1, 1), (0, 0, 0, 0), false);
    }

    /// <summary>ceil_mode = 1 is accepted only where every window starts inside the input (same size as floor).</summary>
    internal static void CheckCeilMode(ImportContext ctx, NodeProto node, int[] shape, (int H, int W) kernel, (int H, int W) strides, (int Top, int Left, int Bottom, int Right) pads)
    {
        if (ImportContext.Int(node, "ceil_mode", 0) == 0) return;
        int spanH = shape[1] + pads.Top + pads.Bottom - kernel.H, spanW = shape[2] + pads.Left + pads.Right - kernel.W;
        if (spanH % strides.H != 0 || spanW % strides.W != 0)
            throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, "ceil_mode = 1 adds a partial window here; expected ceil_mode = 0 (or windows that tile the input)");
    }

    private static void Pool(ImportContext ctx, NodeProto node, AffineValue a, (int H, int W) kernel, (int H, int W) strides, (int Top, int Left, int Bottom, int Right) pads, bool includePad)
    {
        SparseMap pool;
        int oh, ow;
        try
        {
            pool = SparseMap.AveragePool(a.Shape[0], a.Shape[1], a.Shape[2], kernel.H, kernel.W, strides.H, strides.W,
                pads.Top, pads.Left, pads.Bottom, pads.Right, includePad, out oh, out ow);
        }
        catch (ArgumentException e)
        {
            throw ctx.Error(ErrorCodes.OnnxUnsupportedGraph, node, $"the pool does not fit X [batch, {string.Join(", ", a.Shape)}]: {e.Message}");
        }
        var offset = new double[pool.Outputs];
        pool.Apply(a.Offset, offset);
        ctx.Output(node, a.Then(pool, offset, [a.Shape[0], oh, ow], a.WeightName, a.BiasName));
    }
}
