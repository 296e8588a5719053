using System.Text.Json.Serialization;

namespace Reassure.Cli.Commands;

/// <summary>The result of `reassure eval`.</summary>
/// <param name="Rows">Number of rows evaluated.</param>
/// <param name="Accuracy">Fraction of rows whose prediction equals the label.</param>
internal sealed record EvalResult(
    [property: JsonPropertyName("rows")] int Rows,
    [property: JsonPropertyName("accuracy")] double Accuracy);

/// <summary>Source-generated JSON for <see cref="EvalResult"/>.</summary>
[JsonSerializable(typeof(EvalResult))]
internal sealed partial class EvalJson : JsonSerializerContext;
