'use strict';

/** Upper-case the first letter, lower-case the rest. */
function capitalize(word) {
  if (!word) {
    return '';
  }
  return word.charAt(0).toUpperCase() + word.slice(1).toLowerCase();
}

function camelCase(text) {
  const parts = text.split(/[\s_-]+/).filter(function (p) { return p.length > 0; });
  let out = '';
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i].toLowerCase();
    out += i === 0 ? p : p.charAt(0).toUpperCase() + p.slice(1);
  }
  return out;
}

function kebabCase(text) {
  var result = text.replace(/([a-z0-9])([A-Z])/g, '$1-$2');
  result = result.replace(/[\s_]+/g, '-');
  result = result.toLowerCase();
  while (result.indexOf('--') !== -1) {
    result = result.replace('--', '-');
  }
  return result.replace(/^-|-$/g, '');
}

/** Cut text to at most `max` characters, ending with `suffix` when cut. */
function truncate(text, max, suffix = '...') {
  if (text.length <= max) {
    return text;
  }
  if (max <= suffix.length) {
    return suffix.slice(0, max);
  }
  return text.slice(0, max - suffix.length) + suffix;
}

function countVowels(text) {
  let count = 0;
  const vowels = ['a', 'e', 'i', 'o', 'u'];
  for (const ch of text.toLowerCase()) {
    if (vowels.indexOf(ch) >= 0) {
      count = count + 1;
    }
  }
  return count;
}

function reverseWords(sentence) {
  const words = sentence.trim().split(/\s+/);
  const reversed = [];
  for (let i = words.length - 1; i >= 0; i--) {
    if (words[i] !== '') {
      reversed.push(words[i]);
    }
  }
  return reversed.join(' ');
}

/** True when text reads the same both ways, ignoring case and non-letters. */
function isPalindrome(text) {
  const letters = text.toLowerCase().replace(/[^a-z0-9]/g, '');
  let i = 0;
  let j = letters.length - 1;
  while (i < j) {
    if (letters[i] !== letters[j]) {
      return false;
    }
    i++;
    j--;
  }
  return true;
}

function slugify(title) {
  var slug = title.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  slug = slug.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  if (slug.startsWith('-')) slug = slug.slice(1);
  if (slug.endsWith('-')) slug = slug.slice(0, -1);
  return slug;
}

/** Greedy word wrap at `width` columns; a longer word stands on its own line. */
function wordWrap(text, width) {
  const lines = [];
  let current = '';
  text.split(/\s+/).forEach(function (word) {
    if (!word) return;
    if (current === '') {
      current = word;
    } else if ((current + ' ' + word).length <= width) {
      current = current + ' ' + word;
    } else {
      lines.push(current);
      current = word;
    }
  });
  if (current !== '') lines.push(current);
  return lines;
}

function template(text, values) {
  return text.replace(/\{(\w+)\}/g, function (match, key) {
    if (Object.prototype.hasOwnProperty.call(values, key)) {
      return String(values[key]);
    }
    return match;
  });
}

module.exports = {
  capitalize, camelCase, kebabCase, truncate, countVowels, reverseWords, isPalindrome,
  slugify, wordWrap, template,
};
