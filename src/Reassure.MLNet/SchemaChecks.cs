using Microsoft.ML;
using Microsoft.ML.Data;

namespace Reassure.MLNet;

/// <summary>
/// Input-schema validation with ML.NET's wording (its own helpers are internal): a missing column gives
/// "Could not find {role} column '{name}'", a wrong type "Schema mismatch for {role} column '{name}': expected {expected},
/// got {actual}", both as <see cref="ArgumentOutOfRangeException"/> on parameter <c>inputSchema</c>.
/// </summary>
internal static class SchemaChecks
{
    internal const string IntegerTypes = "Key or integer (Byte, SByte, Int16, UInt16, Int32, UInt32, Int64, UInt64)";

    private static readonly HashSet<Type> IntegerRawTypes =
    [
        typeof(byte), typeof(sbyte), typeof(short), typeof(ushort), typeof(int), typeof(uint), typeof(long), typeof(ulong),
    ];

    public static Exception NotFound(string role, string name) =>
        new ArgumentOutOfRangeException("inputSchema", $"Could not find {role} column '{name}'.");

    public static Exception Mismatch(string role, string name, string expected, string actual) =>
        new ArgumentOutOfRangeException("inputSchema", $"Schema mismatch for {role} column '{name}': expected {expected}, got {actual}.");

    public static string FeatureType(int size) => new VectorDataViewType(NumberDataViewType.Single, size).ToString();

    // ---- DataViewSchema (Fit, transformer) ----

    public static DataViewSchema.Column Feature(DataViewSchema schema, string name, int size)
    {
        var col = schema.GetColumnOrNull(name) ?? throw NotFound("feature", name);
        if (col.Type is not VectorDataViewType v || v.ItemType != NumberDataViewType.Single || v.Size != size)
            throw Mismatch("feature", name, FeatureType(size), Text(col.Type));
        return col;
    }

    public static DataViewSchema.Column Label(DataViewSchema schema, string name)
    {
        var col = schema.GetColumnOrNull(name) ?? throw NotFound("label", name);
        if (!IsLabelType(col.Type))
            throw Mismatch("label", name, IntegerTypes, Text(col.Type));
        return col;
    }

    public static DataViewSchema.Column Boolean(DataViewSchema schema, string name)
    {
        var col = schema.GetColumnOrNull(name) ?? throw NotFound("buggy-row", name);
        if (col.Type != BooleanDataViewType.Instance)
            throw Mismatch("buggy-row", name, Text(BooleanDataViewType.Instance), Text(col.Type));
        return col;
    }

    public static bool IsLabelType(DataViewType type) =>
        type is KeyDataViewType || (type is NumberDataViewType && IntegerRawTypes.Contains(type.RawType));

    // ---- SchemaShape (estimator; it carries no vector sizes, so sizes are checked by Fit and the transformer) ----

    public static void Feature(SchemaShape schema, string name)
    {
        if (Find(schema, name) is not { } col) throw NotFound("feature", name);
        if (col.Kind != SchemaShape.Column.VectorKind.Vector || col.ItemType != NumberDataViewType.Single)
            throw Mismatch("feature", name, "known-size vector of Single", Describe(col));
    }

    public static void Label(SchemaShape schema, string name)
    {
        if (Find(schema, name) is not { } col) throw NotFound("label", name);
        if (col.Kind != SchemaShape.Column.VectorKind.Scalar || !(col.IsKey || IsLabelType(col.ItemType)))
            throw Mismatch("label", name, IntegerTypes, Describe(col));
    }

    public static void Boolean(SchemaShape schema, string name)
    {
        if (Find(schema, name) is not { } col) throw NotFound("buggy-row", name);
        if (col.Kind != SchemaShape.Column.VectorKind.Scalar || col.ItemType != BooleanDataViewType.Instance)
            throw Mismatch("buggy-row", name, Text(BooleanDataViewType.Instance), Describe(col));
    }

    public static SchemaShape.Column? Find(SchemaShape schema, string name)
    {
        foreach (var c in schema)
            if (c.Name == name) return c;
        return null;
    }

    public static string Text(DataViewType type) => type.ToString() ?? type.RawType.Name;

    private static string Describe(SchemaShape.Column col) => col.Kind switch
    {
        SchemaShape.Column.VectorKind.Scalar => col.IsKey ? $"Key<{col.ItemType}>" : Text(col.ItemType),
        SchemaShape.Column.VectorKind.Vector => $"Vector<{col.ItemType}>",
        _ => $"variable-size Vector<{col.ItemType}>",
    };

    /// <summary>Reads an integer or key column as a class index (key k is class k - 1; missing key 0 gives -1).</summary>
    public static Func<long> ClassReader(DataViewRow row, DataViewSchema.Column col)
    {
        bool key = col.Type is KeyDataViewType;
        Func<long> raw = col.Type.RawType switch
        {
            var t when t == typeof(byte) => Getter<byte>(row, col, v => v),
            var t when t == typeof(sbyte) => Getter<sbyte>(row, col, v => v),
            var t when t == typeof(short) => Getter<short>(row, col, v => v),
            var t when t == typeof(ushort) => Getter<ushort>(row, col, v => v),
            var t when t == typeof(int) => Getter<int>(row, col, v => v),
            var t when t == typeof(uint) => Getter<uint>(row, col, v => v),
            var t when t == typeof(long) => Getter<long>(row, col, v => v),
            var t when t == typeof(ulong) => Getter<ulong>(row, col, v => v > long.MaxValue ? -1 : (long)v),
            _ => throw Mismatch("label", col.Name, IntegerTypes, Text(col.Type)),
        };
        return key ? () => raw() - 1 : raw;
    }

    private static Func<long> Getter<T>(DataViewRow row, DataViewSchema.Column col, Func<T, long> convert)
    {
        var getter = row.GetGetter<T>(col);
        T value = default!;
        return () =>
        {
            getter(ref value);
            return convert(value);
        };
    }

    /// <summary>ML.NET's <see cref="DataKind"/> of an integer column type.</summary>
    public static DataKind Kind(DataViewType type) => type.RawType switch
    {
        var t when t == typeof(byte) => DataKind.Byte,
        var t when t == typeof(sbyte) => DataKind.SByte,
        var t when t == typeof(short) => DataKind.Int16,
        var t when t == typeof(ushort) => DataKind.UInt16,
        var t when t == typeof(int) => DataKind.Int32,
        var t when t == typeof(uint) => DataKind.UInt32,
        var t when t == typeof(long) => DataKind.Int64,
        _ => DataKind.UInt64,
    };
}
