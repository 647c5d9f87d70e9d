/**
 * Timestamps as text by arithmetic: no Date objects and no Intl on the hot path. The civil
 * calendar conversion is Howard Hinnant's `civil_from_days` (proleptic Gregorian, exact for
 * every day a Date can hold).
 */

const TWO_DIGITS: readonly string[] = Array.from({ length: 100 }, (_, n) => (n < 10 ? `0${n}` : `${n}`));
const DAY_SECONDS = 86_400;

/** Years 0..9999 as four digits; others signed with six digits, as Date#toISOString writes them. */
function yearText(year: number): string {
  if (year >= 0 && year <= 9999) return TWO_DIGITS[Math.floor(year / 100)] + TWO_DIGITS[year % 100];
  return (year < 0 ? '-' : '+') + String(Math.abs(year)).padStart(6, '0');
}

/** `YYYY-MM-DD` of a day counted from 1970-01-01. */
function dateText(days: number): string {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return `${yearText(year)}-${TWO_DIGITS[month]}-${TWO_DIGITS[day]}`;
}

/** `HH:mm:ss` of a second of the day. */
function clockText(secondOfDay: number): string {
  const hours = Math.floor(secondOfDay / 3600);
  const minutes = Math.floor(secondOfDay / 60) % 60;
  return `${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[secondOfDay % 60]}`;
}

/** `+0800`, `-0500`; `+080543` when the offset has seconds (as Python's `%z` writes it). */
export function offsetText(offsetSeconds: number): string {
  const abs = Math.abs(offsetSeconds);
  const seconds = abs % 60;
  const text = TWO_DIGITS[Math.floor(abs / 3600)] + TWO_DIGITS[Math.floor(abs / 60) % 60];
  return (offsetSeconds < 0 ? '-' : '+') + text + (seconds === 0 ? '' : TWO_DIGITS[seconds]);
}

/** `YYYY-MM-DD HH:mm:ss +0800` of a whole second since the epoch, at a UTC offset. */
export function localTimeText(epochSecond: number, offsetSeconds: number): string {
  const local = epochSecond + offsetSeconds;
  const days = Math.floor(local / DAY_SECONDS);
  return `${dateText(days)} ${clockText(local - days * DAY_SECONDS)} ${offsetText(offsetSeconds)}`;
}

/** `2020-08-17T12:13:53.320Z`: ISO-8601 UTC with milliseconds (fractions of a ms truncated). */
export function isoUtcText(ms: number): string {
  const whole = Math.floor(ms);
  const second = Math.floor(whole / 1000);
  const milli = whole - second * 1000;
  const days = Math.floor(second / DAY_SECONDS);
  const millis = milli < 10 ? `00${milli}` : milli < 100 ? `0${milli}` : `${milli}`;
  return `${dateText(days)}T${clockText(second - days * DAY_SECONDS)}.${millis}Z`;
}
