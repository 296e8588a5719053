using Reassure.Networks;

namespace Reassure.Formats.Onnx;

/// <summary>
/// The value of one tensor during symbolic evaluation of an ONNX graph: either a constant or an affine function of the
/// current layer input u (the flattened network input, or the output of the latest ReLU).
/// </summary>
internal abstract class SymbolicValue
{
    /// <summary>Product of dims; 1 for a scalar.</summary>
    public static long Product(ReadOnlySpan<long> dims)
    {
        long p = 1;
        foreach (var d in dims) p *= d;
        return p;
    }

    /// <summary>Product of dims; 1 for a scalar.</summary>
    public static int Product(ReadOnlySpan<int> dims)
    {
        int p = 1;
        foreach (var d in dims) p *= d;
        return p;
    }

    /// <summary>Dims as "[a, b]".</summary>
    public static string Format<T>(IEnumerable<T> dims) => "[" + string.Join(", ", dims) + "]";
}

/// <summary>A constant tensor (initializer or Constant node, or folded), values in double, full ONNX shape.</summary>
internal sealed class ConstantValue : SymbolicValue
{
    public ConstantValue(long[] shape, double[] data, string? name = null)
    {
        if (Product(shape) != data.Length) throw new ArgumentException($"Shape {Format(shape)} does not hold {data.Length} values.");
        Shape = shape;
        Data = data;
        Name = name;
    }

    /// <summary>Full shape (no batch convention for constants).</summary>
    public long[] Shape { get; }

    /// <summary>Row-major values.</summary>
    public double[] Data { get; }

    /// <summary>The initializer name, when the constant is an initializer.</summary>
    public string? Name { get; }

    /// <summary>Values as integers (shapes, axes).</summary>
    public long[] AsInt64() => Data.Select(v => (long)v).ToArray();
}

/// <summary>
/// A tensor t of full shape [batch] + <see cref="Shape"/> whose per-sample elements (row-major) are
/// t_k = sum_j M[k, j] u_j + c_k, with u the layer input of width <see cref="Width"/> (<see cref="Base"/> identifies it:
/// 0 = network input, l = output of the l-th ReLU). M is a <see cref="LinearMap"/> (dense, or the compressed rows of
/// convolutions, pools and index maps), or null for the identity.
/// </summary>
internal sealed class AffineValue : SymbolicValue
{
    public AffineValue(int[] shape, double[]? matrix, double[] offset, int baseId, int width, string? weightName = null, string? biasName = null)
        : this(shape, matrix is null ? null : new DenseMap(width, offset.Length, matrix), offset, baseId, width, weightName, biasName)
    {
    }

    public AffineValue(int[] shape, LinearMap? map, double[] offset, int baseId, int width, string? weightName = null, string? biasName = null)
    {
        int count = Product(shape);
        if (offset.Length != count) throw new ArgumentException("Offset length does not match the shape.");
        if (map is null && count != width) throw new ArgumentException("An identity map needs as many elements as inputs.");
        if (map is not null && (map.Outputs != count || map.Inputs != width)) throw new ArgumentException("Map size does not match.");
        Shape = shape;
        Map = map;
        Offset = offset;
        Base = baseId;
        Width = width;
        WeightName = weightName;
        BiasName = biasName;
    }

    /// <summary>Per-sample dims (the batch dim is not included).</summary>
    public int[] Shape { get; }

    /// <summary>M, <c>[Count, Width]</c>; null means the identity (and then Count == Width).</summary>
    public LinearMap? Map { get; }

    /// <summary>c, <c>[Count]</c>.</summary>
    public double[] Offset { get; }

    /// <summary>Which layer input u this is a function of.</summary>
    public int Base { get; }

    /// <summary>Width of u.</summary>
    public int Width { get; }

    /// <summary>Number of per-sample elements.</summary>
    public int Count => Offset.Length;

    /// <summary>Initializer that supplied the weights of this affine run, if known.</summary>
    public string? WeightName { get; }

    /// <summary>Initializer that supplied the bias of this affine run, if known.</summary>
    public string? BiasName { get; }

    /// <summary>The identity map on a layer input of the given per-sample shape.</summary>
    public static AffineValue Identity(int[] shape, int baseId) =>
        new(shape, (LinearMap?)null, new double[Product(shape)], baseId, Product(shape));

    /// <summary>M as a map; the identity as a dense identity matrix (a layer straight on its input, kept as before).</summary>
    public LinearMap MapOrDenseIdentity()
    {
        if (Map is not null) return Map;
        var m = new double[(long)Count * Width];
        for (int k = 0; k < Count; k++) m[(long)k * Width + k] = 1.0;
        return new DenseMap(Width, Count, m);
    }

    /// <summary>outer ∘ M (outer applied after this value's map), with a new offset and shape.</summary>
    public AffineValue Then(LinearMap outer, double[] offset, int[] shape, string? weightName, string? biasName) =>
        new(shape, Map is null ? outer : LinearMap.Compose(outer, Map), offset, Base, Width, weightName, biasName);

    /// <summary>Adds <paramref name="scale"/> times row k of M to <paramref name="row"/> (<c>[Width]</c>).</summary>
    public void AddRow(int k, double scale, Span<double> row)
    {
        if (Map is null) { row[k] += scale; return; }
        Map.AddRow(k, scale, row);
    }

    /// <summary>The same function with another per-sample shape (same element order).</summary>
    public AffineValue WithShape(int[] shape) => new(shape, Map, Offset, Base, Width, WeightName, BiasName);

    /// <summary>The same function with other provenance names.</summary>
    public AffineValue WithNames(string? weightName, string? biasName) => new(Shape, Map, Offset, Base, Width, weightName, biasName);
}
