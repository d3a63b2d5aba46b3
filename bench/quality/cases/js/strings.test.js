'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const s = require('./strings.js');

test('capitalize: first letter up, rest down', () => {
  assert.equal(s.capitalize('hELLO'), 'Hello');
  assert.equal(s.capitalize('a'), 'A');
});
test('capitalize: empty and missing', () => {
  assert.equal(s.capitalize(''), '');
  assert.equal(s.capitalize(undefined), '');
});
test('camelCase: separators', () => {
  assert.equal(s.camelCase('hello world'), 'helloWorld');
  assert.equal(s.camelCase('foo_bar-baz qux'), 'fooBarBazQux');
  assert.equal(s.camelCase('  Already  '), 'already');
  assert.equal(s.camelCase(''), '');
});
test('kebabCase: camel and spaces', () => {
  assert.equal(s.kebabCase('helloWorld'), 'hello-world');
  assert.equal(s.kebabCase('Foo Bar_baz'), 'foo-bar-baz');
  assert.equal(s.kebabCase('  a  b '), 'a-b');
  assert.equal(s.kebabCase('HTML5Parser'), 'html5-parser');
});
test('truncate: short text unchanged', () => {
  assert.equal(s.truncate('abc', 5), 'abc');
  assert.equal(s.truncate('abcde', 5), 'abcde');
});
test('truncate: cut with suffix', () => {
  assert.equal(s.truncate('abcdefgh', 6), 'abc...');
  assert.equal(s.truncate('abcdefgh', 5, '~'), 'abcd~');
  assert.equal(s.truncate('abcdefgh', 2), '..');
});
test('countVowels: mixed case', () => {
  assert.equal(s.countVowels('Hello World'), 3);
  assert.equal(s.countVowels('AEIOU xyz'), 5);
  assert.equal(s.countVowels(''), 0);
});
test('reverseWords: order and spaces', () => {
  assert.equal(s.reverseWords('one two  three'), 'three two one');
  assert.equal(s.reverseWords('  solo '), 'solo');
  assert.equal(s.reverseWords(''), '');
});
test('isPalindrome: yes and no', () => {
  assert.equal(s.isPalindrome('A man, a plan, a canal: Panama'), true);
  assert.equal(s.isPalindrome('abca'), false);
  assert.equal(s.isPalindrome(''), true);
  assert.equal(s.isPalindrome('ab'), false);
});
test('slugify: accents and punctuation', () => {
  assert.equal(s.slugify('Héllo, Wörld!'), 'hello-world');
  assert.equal(s.slugify('  --Already-slug-- '), 'already-slug');
  assert.equal(s.slugify('C++ & Rust 2024'), 'c-rust-2024');
});
test('wordWrap: widths', () => {
  assert.deepEqual(s.wordWrap('the quick brown fox', 10), ['the quick', 'brown fox']);
  assert.deepEqual(s.wordWrap('a verylongword b', 4), ['a', 'verylongword', 'b']);
  assert.deepEqual(s.wordWrap('', 5), []);
});
test('template: fills known keys', () => {
  assert.equal(s.template('Hi {name}, you are {age}', { name: 'Ada', age: 36 }),
    'Hi Ada, you are 36');
  assert.equal(s.template('{missing} stays', {}), '{missing} stays');
  assert.equal(s.template('{toString}', {}), '{toString}');
});
