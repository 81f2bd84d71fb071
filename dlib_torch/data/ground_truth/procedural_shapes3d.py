"""A 3D-shapes-like scene ray-cast by our own code: no files needed.

`procedural_shapes3d` has the factors, sizes, draw order and output format of
`shapes3d`: floor hue (10), wall hue (10), object hue (10), object scale (8),
object shape (4: cube, cylinder, sphere, capsule), orientation (15); all
exposed; 64x64x3 float32 in [0, 1]; rendering draws nothing.

The scene: an object standing at the centre of a room (floor, back wall, two
side walls), seen by an orthographic camera 25 degrees above the floor that
turns around the object by -30..30 degrees with the orientation factor, as the
real set's view turns. Surfaces have Lambert shading from one fixed light
plus ambient light; edges are anti-aliased with 2x2 samples per pixel. All
geometry is ray-cast once at construction; a batch only mixes colours.

How it differs from the real Shapes3D: no shadows, reflections or
perspective; colours are HSV hues 0, 0.1, ..., 0.9 at saturation 0.8 (the
real set's hues are similar but its colours come from a renderer); object
scales run 0.75..1.25 as in the real set but the proportions of shapes and
room are ours. Pixels are not quantised to 1/255 steps.
"""
import numpy as np

from dlib_torch.data.ground_truth import image_array_data
from dlib_torch.data.ground_truth import named_data

FACTOR_SIZES = [10, 10, 10, 8, 4, 15]
_SAMPLES = 2  # anti-aliasing samples per pixel along each axis
_VIEW_HALF_WIDTH = 2.4  # world units from the image centre to its edge
_ELEVATION = np.deg2rad(25.)
_TARGET = np.array([0., 1.7, 0.])
_LIGHT = np.array([0.5, 1., 0.7]) / np.linalg.norm([0.5, 1., 0.7])
_AMBIENT = 0.45
_BACK_WALL = -3.  # z of the back wall
_SIDE_WALL = 4.  # |x| of the side walls
_FAR = 1e9


def _hues_to_rgb(hues, saturation=0.8, value=0.95):
  """HSV -> RGB for an array of hues in [0, 1)."""
  k = (np.array([5., 3., 1.])[None, :] + hues[:, None] * 6.) % 6.
  return value - value * saturation * np.clip(np.minimum(k, 4. - k), 0., 1.)


def _camera_rays(azimuth):
  """Origins and the shared direction of the orthographic rays, [H*s, W*s, 3]."""
  back = np.array([np.sin(azimuth) * np.cos(_ELEVATION), np.sin(_ELEVATION),
                   np.cos(azimuth) * np.cos(_ELEVATION)])  # towards the camera
  right = np.array([np.cos(azimuth), 0., -np.sin(azimuth)])
  up = np.cross(back, right)
  n = 64 * _SAMPLES
  coords = ((np.arange(n) + 0.5) / n * 2. - 1.) * _VIEW_HALF_WIDTH
  u, v = np.meshgrid(coords, -coords)  # row 0 at the top
  origins = _TARGET + 50. * back + u[..., None] * right + v[..., None] * up
  return origins, -back


def _plane_hit(origins, direction, axis, value, normal):
  """Distance to a room surface x[axis] = value with inward `normal`.

  The room is convex and the camera outside it, so a ray sees the surface
  through which it leaves the room: planes it enters through are skipped.
  """
  if direction @ normal >= 0:
    return np.full(origins.shape[:-1], _FAR), normal
  t = (value - origins[..., axis]) / direction[axis]
  return np.where(t > 0, t, _FAR), normal


def _sphere_hit(origins, direction, centre, radius):
  oc = origins - centre
  b = oc @ direction
  disc = b * b - (np.sum(oc * oc, -1) - radius * radius)
  t = np.where(disc >= 0, -b - np.sqrt(np.maximum(disc, 0.)), _FAR)
  points = origins + t[..., None] * direction
  return t, (points - centre) / radius


def _cylinder_hit(origins, direction, radius, bottom, top):
  """A vertical capped cylinder around the y axis."""
  dx, dz = direction[0], direction[2]
  ox, oz = origins[..., 0], origins[..., 2]
  a = dx * dx + dz * dz
  b = ox * dx + oz * dz
  disc = b * b - a * (ox * ox + oz * oz - radius * radius)
  t_side = np.where(disc >= 0, (-b - np.sqrt(np.maximum(disc, 0.))) / a, _FAR)
  y_side = origins[..., 1] + t_side * direction[1]
  t_side = np.where((y_side >= bottom) & (y_side <= top), t_side, _FAR)
  t_top = (top - origins[..., 1]) / direction[1]
  top_points = origins + t_top[..., None] * direction
  t_top = np.where(top_points[..., 0] ** 2 + top_points[..., 2] ** 2 <= radius * radius,
                   t_top, _FAR)
  side_points = origins + t_side[..., None] * direction
  side_normal = side_points * np.array([1., 0., 1.]) / radius
  use_top = t_top < t_side
  normal = np.where(use_top[..., None], np.array([0., 1., 0.]), side_normal)
  return np.minimum(t_top, t_side), normal


def _box_hit(origins, direction, half):
  """An axis-aligned box |x|, |z| <= half, 0 <= y <= 2 half (slab method)."""
  low = np.array([-half, 0., -half])
  high = np.array([half, 2. * half, half])
  with np.errstate(divide="ignore"):
    inv = 1. / direction
  t1, t2 = (low - origins) * inv, (high - origins) * inv
  t_near, t_far = np.minimum(t1, t2), np.maximum(t1, t2)
  entry = np.max(t_near, -1)
  hit = (entry <= np.min(t_far, -1)) & (entry > 0)
  axis = np.argmax(t_near, -1)
  normal = np.zeros(origins.shape)
  np.put_along_axis(normal, axis[..., None], -np.sign(direction)[axis][..., None], -1)
  return np.where(hit, entry, _FAR), normal


def _object_hit(shape, scale, origins, direction):
  half = 0.6 * scale
  if shape == 0:
    return _box_hit(origins, direction, half)
  if shape == 1:
    return _cylinder_hit(origins, direction, half, 0., 2. * half)
  if shape == 2:
    return _sphere_hit(origins, direction, np.array([0., half, 0.]), half)
  # Capsule: a cylinder with hemispherical ends, 2.4 half tall.
  radius = 0.6 * half
  bottom, top = radius, 2.4 * half - radius
  hits = [_cylinder_hit(origins, direction, radius, bottom, top),
          _sphere_hit(origins, direction, np.array([0., bottom, 0.]), radius),
          _sphere_hit(origins, direction, np.array([0., top, 0.]), radius)]
  t = np.min([h[0] for h in hits], axis=0)
  nearest = np.argmin([h[0] for h in hits], axis=0)
  normal = np.choose(nearest[..., None], [h[1] for h in hits])
  return t, normal


def _shade(normal):
  return _AMBIENT + (1. - _AMBIENT) * np.maximum(normal @ _LIGHT, 0.)


def _pool(samples):
  """Averages the anti-aliasing samples: [64*s, 64*s] -> [64, 64]."""
  return samples.reshape(64, _SAMPLES, 64, _SAMPLES).mean(axis=(1, 3))


def _render_scene_maps():
  """Per orientation: floor and wall light [15, 64, 64]; per object: alpha and light."""
  scales = np.linspace(0.75, 1.25, FACTOR_SIZES[3])
  azimuths = np.deg2rad(np.linspace(-30., 30., FACTOR_SIZES[5]))
  floor_light = np.zeros((15, 64, 64), np.float32)
  wall_light = np.zeros((15, 64, 64), np.float32)
  alpha = np.zeros((8, 4, 15, 64, 64), np.float32)
  object_light = np.zeros((8, 4, 15, 64, 64), np.float32)
  for o, azimuth in enumerate(azimuths):
    origins, direction = _camera_rays(azimuth)
    floor_t, _ = _plane_hit(origins, direction, 1, 0., np.array([0., 1., 0.]))
    walls = [_plane_hit(origins, direction, 2, _BACK_WALL, np.array([0., 0., 1.])),
             _plane_hit(origins, direction, 0, -_SIDE_WALL, np.array([1., 0., 0.])),
             _plane_hit(origins, direction, 0, _SIDE_WALL, np.array([-1., 0., 0.]))]
    wall_t = np.min([t for t, _ in walls], axis=0)
    nearest_wall = np.argmin([t for t, _ in walls], axis=0)
    wall_shade = np.choose(nearest_wall, [np.full(wall_t.shape, _shade(n)) for _, n in walls])
    is_floor = floor_t < wall_t
    floor_light[o] = _pool(np.where(is_floor, _shade(np.array([0., 1., 0.])), 0.))
    wall_light[o] = _pool(np.where(is_floor, 0., wall_shade))
    for s, scale in enumerate(scales):
      for shape in range(4):
        t, normal = _object_hit(shape, scale, origins, direction)
        hit = t < _FAR
        alpha[s, shape, o] = _pool(hit.astype(np.float64))
        object_light[s, shape, o] = _pool(np.where(hit, _shade(normal), 0.))
  return floor_light, wall_light, alpha, object_light


class ProceduralShapes3D(image_array_data.ImageArrayData):
  """Shapes3D-like scenes: 6 factors, all exposed, 64x64x3 float32."""

  def __init__(self):
    self._floor, self._wall, self._alpha, self._object = _render_scene_maps()
    self._colors = _hues_to_rgb(np.linspace(0., 0.9, 10)).astype(np.float32)
    # No image array: observations are mixed from the maps above.
    self._set_images(None, FACTOR_SIZES, range(6), [64, 64, 3])

  def sample_observations_from_factors(self, factors, random_state):
    all_factors = self.state_space.sample_all_factors(factors, random_state)
    return self._render(all_factors)

  def _render(self, all_factors):
    floor_hue, wall_hue, object_hue, scale, shape, orientation = all_factors.T
    color = lambda hue: self._colors[hue][:, None, None, :]
    alpha = self._alpha[scale, shape, orientation][..., None]
    background = (self._floor[orientation][..., None] * color(floor_hue) +
                  self._wall[orientation][..., None] * color(wall_hue))
    foreground = self._object[scale, shape, orientation][..., None] * color(object_hue)
    return np.clip(background * (1. - alpha) + foreground, 0., 1.)


@named_data.register("procedural_shapes3d",
                     "3D-shapes-like scenes ray-cast by dlib_torch (no file), 64x64x3")
def procedural_shapes3d():
  return ProceduralShapes3D()
