using System;
using System.Management.Automation;

namespace SyncPool.Cmdlets;

/// <summary>
/// The -Timeout of every Wait cmdlet (Wait-ParallelTask, Wait-SyncTable),
/// in seconds, as Wait-Job takes it: -1 (the default) waits as long as it
/// takes, 0 does not wait at all, anything else up to
/// <see cref="ValidatePositiveSecondsAttribute.MaxSeconds"/> is the limit.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ValidateWaitTimeoutAttribute : ValidateArgumentsAttribute
{
    /// <summary>The value that means "no limit".</summary>
    public const double Forever = -1;

    protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
    {
        object value = arguments is PSObject pso ? pso.BaseObject : arguments;
        if (!LanguagePrimitives.TryConvertTo(value, out double seconds) || double.IsNaN(seconds))
            throw new ValidationMetadataException($"'{arguments}' is not a number of seconds.");
        if (seconds == Forever) return;
        if (seconds < 0)
            throw new ValidationMetadataException($"-Timeout is a number of seconds, 0 or more, or -1 to wait as long as it takes; {seconds} was given.");
        if (seconds > ValidatePositiveSecondsAttribute.MaxSeconds)
            throw new ValidationMetadataException($"-Timeout must be at most {ValidatePositiveSecondsAttribute.MaxSeconds:N0} seconds; give -1 (or leave it out) to wait as long as it takes.");
    }

    /// <summary>The limit a -Timeout value stands for; null for none.</summary>
    public static TimeSpan? Limit(double? seconds) => seconds is { } s && s >= 0 ? TimeSpan.FromSeconds(s) : null;
}
