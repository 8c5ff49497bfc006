using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using SyncPool.Native;
using SyncPool.Pool;

namespace SyncPool.Cmdlets;

/// <summary>Accepts a number of seconds greater than zero (and not absurdly large).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ValidatePositiveSecondsAttribute : ValidateArgumentsAttribute
{
    /// <summary>About 24 days: the largest timeout that fits the native millisecond timers comfortably.</summary>
    public const double MaxSeconds = int.MaxValue / 1000.0;

    protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
    {
        object value = arguments is PSObject pso ? pso.BaseObject : arguments;
        if (!LanguagePrimitives.TryConvertTo(value, out double seconds) || double.IsNaN(seconds))
            throw new ValidationMetadataException($"'{arguments}' is not a number of seconds.");
        if (seconds <= 0)
            throw new ValidationMetadataException($"The timeout must be greater than 0 seconds; {seconds} was given. Leave the parameter out for no timeout.");
        if (seconds > MaxSeconds)
            throw new ValidationMetadataException($"The timeout must be at most {MaxSeconds:N0} seconds; leave the parameter out for no timeout.");
    }
}
