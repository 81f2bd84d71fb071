"""Headless Chromium for the tests of the HTML pages (model cards, study reports).

Chromium and its driver are Debian's `chromium` and `chromium-driver` (.ci/run
installs them), driven through selenium. A page is served over HTTP from its
folder, as a user's browser would load it, so that a file that does not load
is an error in the page's console as well as a broken element.
"""
import collections
import contextlib
import functools
import http.server
import os
import shutil
import threading

_BROWSERS = ("chromium", "chromium-browser", "google-chrome")
_WIDTH = 1280
_MAX_SCREENSHOT_HEIGHT = 12000


class Unavailable(Exception):
  """No headless Chromium can run here; the message says why."""


# resources: [(tag, url)] of every <img>, <video> and <object>; broken: [(tag, url, problem)];
# errors: the console's error messages.
PageCheck = collections.namedtuple("PageCheck", ["resources", "broken", "errors"])

# Loads every image (lazy ones too), video and object of the page and reports those that fail:
# an image that does not decode, a video without metadata, an object whose data is not served.
_CHECK_RESOURCES = """
const done = arguments[arguments.length - 1];
async function problem(element) {
  try {
    if (element.tagName === "IMG") {
      element.loading = "eager";
      await element.decode();
      return element.naturalWidth > 0 ? null : "empty image";
    }
    if (element.tagName === "VIDEO") {
      if (element.readyState < 1) {
        await new Promise((loaded, failed) => {
          element.addEventListener("loadedmetadata", loaded);
          element.addEventListener("error", () => failed(element.error));
          element.preload = "metadata";
          element.load();
        });
      }
      return null;
    }
    const response = await fetch(element.data);
    return response.ok ? null : "HTTP " + response.status;
  } catch (error) {
    return "does not load: " + ((error && error.message) || error);
  }
}
const elements = Array.from(document.querySelectorAll("img, video, object"));
Promise.all(elements.map(async (element) => [
    element.tagName.toLowerCase(), element.currentSrc || element.src || element.data || "",
    await problem(element)])).then(done);
"""


@contextlib.contextmanager
def chromium():
  """Yields a selenium driver of headless Chromium; Unavailable where none can start."""
  try:
    from selenium import webdriver  # pylint: disable=g-import-not-at-top
    from selenium.common import exceptions  # pylint: disable=g-import-not-at-top
    from selenium.webdriver.chrome import service  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    raise Unavailable("selenium is not installed (pip install \"dlib_torch[test]\")") from e
  binary = next(filter(None, map(shutil.which, _BROWSERS)), None)
  driver_path = shutil.which("chromedriver")
  if binary is None or driver_path is None:
    raise Unavailable("no {} on PATH (Debian: apt-get install chromium chromium-driver)".format(
        "chromium" if binary is None else "chromedriver"))
  options = webdriver.ChromeOptions()
  options.binary_location = binary
  # No sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                   "--window-size={},900".format(_WIDTH)):
    options.add_argument(argument)
  options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
  try:
    # The driver named explicitly: selenium would otherwise try to download one.
    driver = webdriver.Chrome(options=options, service=service.Service(driver_path))
  except exceptions.WebDriverException as e:
    raise Unavailable("Chromium does not start: {}".format(
        (e.msg or str(e)).strip().splitlines()[0])) from e
  try:
    yield driver
  finally:
    driver.quit()


@contextlib.contextmanager
def serve(folder):
  """Serves folder over HTTP on a free local port; yields its base URL."""

  class QuietHandler(http.server.SimpleHTTPRequestHandler):

    def send_head(self):
      # Browsers ask for /favicon.ico by themselves (a page opened from disk does not): no
      # content rather than a 404 that the console would log as the page's error.
      if self.path == "/favicon.ico" and not os.path.exists(os.path.join(folder, "favicon.ico")):
        self.send_response(204)
        self.end_headers()
        return None
      return super().send_head()

    def log_message(self, *args):  # pylint: disable=arguments-differ
      pass

  server = http.server.ThreadingHTTPServer(
      ("127.0.0.1", 0), functools.partial(QuietHandler, directory=folder))
  thread = threading.Thread(target=server.serve_forever, daemon=True)
  thread.start()
  try:
    yield "http://127.0.0.1:{}/".format(server.server_address[1])
  finally:
    server.shutdown()
    server.server_close()


def check_page(driver, root, page, screenshot_path, timeout_s=60):
  """Opens root/page (served over HTTP), loads everything on it, screenshots the whole page.

  Returns:
    PageCheck of the page.
  """
  with serve(root) as base_url:
    driver.get_log("browser")  # Drops messages of earlier pages.
    driver.set_script_timeout(timeout_s)
    driver.get(base_url + page)
    resources = driver.execute_async_script(_CHECK_RESOURCES)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(_WIDTH, min(max(height, 900), _MAX_SCREENSHOT_HEIGHT))
    os.makedirs(os.path.dirname(os.path.abspath(screenshot_path)), exist_ok=True)
    driver.save_screenshot(screenshot_path)
    errors = [entry["message"] for entry in driver.get_log("browser")
              if entry["level"] == "SEVERE"]
  return PageCheck([(tag, url) for tag, url, _ in resources],
                   [tuple(r) for r in resources if r[2] is not None], errors)


def artifact_path(tmp_path, name):
  """Where a test keeps a file for people to look at: $DLIB_TEST_ARTIFACTS, else tmp_path."""
  return os.path.join(os.environ.get("DLIB_TEST_ARTIFACTS") or str(tmp_path), name)
