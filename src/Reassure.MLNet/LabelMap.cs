using System.Globalization;
using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Reassure.MLNet;

/// <summary>
/// How label values relate to model outputs (output i is class i), and how the predicted class goes back to the
/// label's type.
/// <list type="bullet">
/// <item>Integer label: class = value; PredictedLabel has the label's integer type.</item>
/// <item>Key label whose key values are all integers (e.g. <c>MapValueToKey</c> on digits, in any ordinality, even with
/// classes absent from the data): class = the key's value. Otherwise (text values): class = key - 1. A key without
/// values counts as values 0..count-1.</item>
/// <item>Key label: PredictedLabel holds keys of the label's own key type and values (built with <c>MapValueToKey</c>
/// over the label's values in key order), so <c>MapKeyToValue</c> and evaluators treat both alike.</item>
/// </list>
/// </summary>
internal sealed class LabelMap
{
    private const string KeyValuesKind = "KeyValues";
    private readonly DataViewSchema.Column _label;
    private readonly List<object>? _values;      // key values in key order (text as string)
    private readonly long[]? _keyToClass;         // key k (1-based) -> class, at index k - 1
    private readonly Dictionary<int, object>? _classToValue;

    public LabelMap(DataViewSchema.Column label, int outputs)
    {
        _label = label;
        if (label.Type is not KeyDataViewType key) return;
        _values = KeyValues(label) ?? Enumerable.Range(0, (int)Math.Min(key.Count, int.MaxValue)).Select(i => (object)(uint)i).ToList();
        var numbers = _values.Select(v => long.TryParse(Convert.ToString(v, CultureInfo.InvariantCulture), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : (long?)null).ToList();
        bool numeric = numbers.All(n => n is not null);
        _keyToClass = numeric ? numbers.Select(n => n!.Value).ToArray() : Enumerable.Range(0, _values.Count).Select(i => (long)i).ToArray();
        _classToValue = [];
        for (int k = 0; k < _keyToClass.Length; k++)
        {
            long c = _keyToClass[k];
            if (c >= 0 && c < outputs) _classToValue.TryAdd((int)c, _values[k]);
        }
    }

    /// <summary>Reads the label of the current row as a class index, -1 when missing.</summary>
    public Func<long> Reader(DataViewRow row)
    {
        var raw = SchemaChecks.ClassReader(row, _label); // key: k - 1; integer: the value
        if (_keyToClass is null) return raw;
        var map = _keyToClass;
        return () =>
        {
            long k = raw();
            return k >= 0 && k < map.Length ? map[k] : -1;
        };
    }

    /// <summary>
    /// The ONNX element type of the predicted label the graph writes: an integer label's own type (the graph casts the
    /// argmax to it), int64 for key labels (mapped to keys by <see cref="Predicted"/>).
    /// </summary>
    public int OnnxElementType => _values is not null ? ArgMaxAppender.Int64Type : SchemaChecks.Kind(_label.Type) switch
    {
        DataKind.Byte => 2,
        DataKind.SByte => 3,
        DataKind.UInt16 => 4,
        DataKind.Int16 => 5,
        DataKind.Int32 => 6,
        DataKind.UInt32 => 12,
        DataKind.UInt64 => 13,
        _ => ArgMaxAppender.Int64Type,
    };

    /// <summary>The transforms that turn the ONNX argmax (one-slot vector, <see cref="OnnxElementType"/>) into the label's item type, in place.</summary>
    public IEstimator<ITransformer>? Predicted(MLContext ml, string column)
    {
        if (_values is null) return null; // the graph already writes the label's integer type
        var type = _values.Count > 0 ? _values[0].GetType() : typeof(uint);
        var method = typeof(LabelMap).GetMethod(nameof(PredictedKey), BindingFlags.NonPublic | BindingFlags.Instance)!.MakeGenericMethod(type);
        return (IEstimator<ITransformer>)method.Invoke(this, [ml, column])!;
    }

    private IEstimator<ITransformer> PredictedKey<T>(MLContext ml, string column)
    {
        var pairs = _classToValue!.OrderBy(p => p.Key).Select(p => new KeyValuePair<long, T>(p.Key, (T)p.Value)).ToList();
        var keyData = ml.Data.LoadFromEnumerable(_values!.Select(v => new KeyRow<T> { Value = (T)v }));
        return ml.Transforms.Conversion.MapValue(column, pairs, column)
            .Append(ml.Transforms.Conversion.MapValueToKey(column, column, keyData: keyData));
    }

    private sealed class KeyRow<T>
    {
        public T Value { get; set; } = default!;
    }

    private static List<object>? KeyValues(DataViewSchema.Column label)
    {
        if (label.Annotations.Schema.GetColumnOrNull(KeyValuesKind)?.Type is not VectorDataViewType vt) return null;
        var method = typeof(LabelMap).GetMethod(nameof(KeyValuesOf), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(vt.ItemType.RawType);
        return (List<object>)method.Invoke(null, [label])!;
    }

    private static List<object> KeyValuesOf<T>(DataViewSchema.Column label)
    {
        VBuffer<T> values = default;
        label.Annotations.GetValue(KeyValuesKind, ref values);
        return values.DenseValues().Select(v => v is ReadOnlyMemory<char> text ? text.ToString() : (object)v!).ToList();
    }
}
